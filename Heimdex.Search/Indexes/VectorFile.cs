using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Heimdex.Search.Indexes;

/// <summary>
/// An index's float vectors on local disk, not in the API's memory: written once per video version, read back for
/// exact re-ranking, exact filtered scans and HNSW builds. Postgres stays the source of truth; the file is this
/// process's working copy, unlinked as soon as it is opened so that nothing is left behind however the process ends.
/// Nothing is ever removed from it: an index moves what it still holds to a new file once the file is mostly garbage.
/// </summary>
public sealed class VectorFile : IDisposable
{
    private readonly SafeFileHandle _file;
    private long _length;

    public VectorFile(string directory)
    {
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
        var offset = Reserve(vectors.Sum(v => (long)v.Length * sizeof(float)));
        var at = offset;
        foreach (var vector in vectors)
        {
            RandomAccess.Write(_file, MemoryMarshal.AsBytes(vector.AsSpan()), at);
            at += vector.Length * sizeof(float);
        }

        return offset;
    }

    /// <summary>Writes <paramref name="floats"/> (one vector or several in a row) and returns where they start; safe from any thread.</summary>
    public long Append(ReadOnlySpan<float> floats)
    {
        var offset = Reserve(floats.Length * (long)sizeof(float));
        RandomAccess.Write(_file, MemoryMarshal.AsBytes(floats), offset);
        return offset;
    }

    private long Reserve(long bytes) => Interlocked.Add(ref _length, bytes) - bytes;

    /// <summary>Fills <paramref name="into"/> with the floats written at <paramref name="offset"/> (one vector or several in a row).</summary>
    public void Read(long offset, Span<float> into)
    {
        var bytes = MemoryMarshal.AsBytes(into);
        var read = 0;
        while (read < bytes.Length)
        {
            var count = RandomAccess.Read(_file, bytes[read..], offset + read);
            if (count == 0)
            {
                throw new EndOfStreamException($"the vector file ends before offset {offset + bytes.Length}.");
            }

            read += count;
        }
    }

    public void Dispose() => _file.Dispose();
}
