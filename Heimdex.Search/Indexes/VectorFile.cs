using System.Buffers;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Heimdex.Search.Indexes;

/// <summary>
/// An index's float vectors on local disk, not in the API's memory: written once per video version, read back for
/// exact re-ranking, exact filtered scans and HNSW builds. Postgres stays the source of truth; the file is this
/// process's working copy, unlinked as soon as it is opened so that nothing is left behind however the process ends.
/// Nothing is ever removed from it: an index moves what it still holds to a new file once the file is mostly garbage.
/// Reads go through memory maps of the file, a segment (<see cref="DefaultSegmentBytes"/>) at a time: a search re-ranks up
/// to a thousand vectors scattered over the file, and a system call per vector (<c>pread</c>) cost three times the
/// copy from the page cache (1,000 random 1.5 KB vectors: 2.8 ms read, 0.9 ms mapped). The pages are the same page
/// cache either way: the kernel drops them under memory pressure and reads them back from the file.
/// </summary>
public sealed class VectorFile : IDisposable
{
    /// <summary>
    /// The file grows by this much at a time, sparse (no disk is used until written), so that every byte written lies
    /// in the file's length and a segment, once mapped, never has to be mapped again.
    /// </summary>
    public const long DefaultSegmentBytes = 256L << 20;

    private readonly SafeFileHandle _file;
    private readonly long _segmentBytes;
    private readonly Lock _growing = new();
    private long _length;
    private long _allocated;

    /// <summary>The segments mapped so far (none until read), replaced by a longer array when one more is mapped.</summary>
    private Segment?[] _segments = [];

    private sealed record Segment(MemoryMappedFile File, MemoryMappedViewAccessor View) : IDisposable
    {
        public void Dispose()
        {
            View.Dispose();
            File.Dispose();
        }
    }

    public VectorFile(string directory, long segmentBytes = DefaultSegmentBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentBytes, 1);
        _segmentBytes = segmentBytes;
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"heimdex-vectors-{Guid.NewGuid():N}.f32");
        _file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.RandomAccess);
        // An open file outlives its name on Linux, the only system Heimdex runs on.
        File.Delete(path);
    }

    public long Bytes => Interlocked.Read(ref _length);

    /// <summary>Writes <paramref name="vectors"/> one after another and returns where the first starts; safe from any thread.</summary>
    public long Append(IReadOnlyList<float[]> vectors)
    {
        // One write, not one per vector: a million vectors loaded at start cost a million system calls.
        var floats = ArrayPool<float>.Shared.Rent(vectors.Sum(v => v.Length));
        try
        {
            var length = 0;
            foreach (var vector in vectors)
            {
                vector.CopyTo(floats, length);
                length += vector.Length;
            }

            return Append(floats.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(floats);
        }
    }

    /// <summary>Writes <paramref name="floats"/> (one vector or several in a row) and returns where they start; safe from any thread.</summary>
    public long Append(ReadOnlySpan<float> floats)
    {
        var offset = Reserve(floats.Length * (long)sizeof(float));
        RandomAccess.Write(_file, MemoryMarshal.AsBytes(floats), offset);
        return offset;
    }

    /// <summary>Room for <paramref name="bytes"/> more: where they start, the file grown by whole segments to hold them.</summary>
    private long Reserve(long bytes)
    {
        var end = Interlocked.Add(ref _length, bytes);
        if (end > Interlocked.Read(ref _allocated))
        {
            lock (_growing)
            {
                if (end > _allocated)
                {
                    var allocated = (end + _segmentBytes - 1) / _segmentBytes * _segmentBytes;
                    RandomAccess.SetLength(_file, allocated);
                    Interlocked.Exchange(ref _allocated, allocated);
                }
            }
        }

        return end - bytes;
    }

    /// <summary>Fills <paramref name="into"/> with the floats written at <paramref name="offset"/> (one vector or several in a row).</summary>
    public unsafe void Read(long offset, Span<float> into)
    {
        var bytes = MemoryMarshal.AsBytes(into);
        if (offset < 0 || offset + bytes.Length > Bytes)
        {
            throw new EndOfStreamException($"the vector file ends before offset {offset + bytes.Length}.");
        }

        var copied = 0;
        while (copied < bytes.Length)
        {
            var at = offset + copied;
            var view = Mapped(at / _segmentBytes).View;
            var within = at % _segmentBytes;
            var count = (int)Math.Min(bytes.Length - copied, _segmentBytes - within);
            byte* start = null;
            // Held while copying: a view disposed meanwhile stays mapped until it is released.
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            try
            {
                new ReadOnlySpan<byte>(start + view.PointerOffset + within, count).CopyTo(bytes[copied..]);
            }
            finally
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            }

            copied += count;
        }
    }

    /// <summary>The map of segment <paramref name="index"/>, mapped on its first read.</summary>
    private Segment Mapped(long index)
    {
        var segments = Volatile.Read(ref _segments);
        if (index < segments.Length && segments[index] is { } mapped)
        {
            return mapped;
        }

        lock (_growing)
        {
            segments = _segments;
            if (index < segments.Length && segments[index] is { } mappedMeanwhile)
            {
                return mappedMeanwhile;
            }

            // Capacity 0: the file as long as it is now, which holds the segment (the file grows by whole segments).
            var file = MemoryMappedFile.CreateFromFile(_file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            var segment = new Segment(file, file.CreateViewAccessor(index * _segmentBytes, _segmentBytes, MemoryMappedFileAccess.Read));
            var grown = new Segment?[Math.Max(segments.Length, index + 1)];
            segments.CopyTo(grown, 0);
            grown[index] = segment;
            Volatile.Write(ref _segments, grown);
            return segment;
        }
    }

    public void Dispose()
    {
        lock (_growing)
        {
            foreach (var segment in _segments)
            {
                segment?.Dispose();
            }
        }

        _file.Dispose();
    }
}
