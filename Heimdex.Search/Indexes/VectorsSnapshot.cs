using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Heimdex.Search.Indexes;

/// <summary>
/// Every vector an API's indexes hold, with the version of each video they were read at, saved so that a restarted API
/// reads them from its local disk instead of reading every vector from Postgres again (at a million scenes, a minute
/// of Postgres's and the API's time): only videos whose version differs from Postgres's are read there. One file, the
/// versions first, then each space's videos in the indexes' order, then a hash of all of it: a file that is partial
/// (the process died while writing it), damaged or of another format or set of spaces is not read at all.
/// </summary>
public static class VectorsSnapshot
{
    private const int Format = 1;
    private const string FileName = "vectors.snapshot";

    /// <summary>
    /// Writes the videos of <paramref name="versions"/> as each of <paramref name="spaces"/> holds them now, and returns
    /// how many vectors it wrote. The versions must be read before the indexes: a video reloaded meanwhile is then saved
    /// newer than its version says, which only makes a restart read it again.
    /// </summary>
    public static long Save(string directory, string spacesKey, IReadOnlyDictionary<Guid, DateTimeOffset> versions, IReadOnlyList<SceneVectorIndex> spaces)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        // A name of this save's own: two processes given one directory never write into each other's file.
        var temporary = Path.ChangeExtension(path, $"{Guid.NewGuid():N}.tmp");
        var vectors = 0L;
        try
        {
            using (var file = new BufferedStream(File.Create(temporary), 1 << 20))
            {
                var hashed = new HashingStream(file);
                using (var writer = new BinaryWriter(hashed, System.Text.Encoding.UTF8, leaveOpen: true))
                {
                    writer.Write(Format);
                    writer.Write(spacesKey);
                    writer.Write(versions.Count);
                    foreach (var (video, version) in versions)
                    {
                        writer.WriteGuid(video);
                        writer.Write(version.UtcTicks);
                    }

                    foreach (var space in spaces)
                    {
                        foreach (var video in versions.Keys)
                        {
                            space.TryRead(video, (owner, scenes, dimensions, floats) =>
                            {
                                writer.Write(true);
                                writer.WriteGuid(video);
                                writer.WriteGuid(owner);
                                writer.Write(scenes.Length);
                                writer.Write(dimensions);
                                writer.Write(MemoryMarshal.AsBytes(scenes));
                                writer.Write(MemoryMarshal.AsBytes(floats));
                                vectors += scenes.Length;
                            });
                        }

                        writer.Write(false);
                    }
                }

                file.Write(BitConverter.GetBytes(hashed.Hash));
            }

            File.Move(temporary, path, overwrite: true);
            return vectors;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>The directory's snapshot, if it has one whole and of these spaces; read its spaces in order with <see cref="Reader.Space"/>.</summary>
    public static Reader? TryOpen(string directory, string spacesKey)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path) || !IsWhole(path))
        {
            return null;
        }

        var reader = new BinaryReader(new BufferedStream(File.OpenRead(path), 1 << 20));
        try
        {
            if (reader.ReadInt32() != Format || reader.ReadString() != spacesKey)
            {
                reader.Dispose();
                return null;
            }

            var versions = new Dictionary<Guid, DateTimeOffset>();
            for (var count = reader.ReadInt32(); count > 0; count--)
            {
                versions[reader.ReadGuid()] = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
            }

            return new Reader(reader, versions);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file ends with the hash of everything before it.</summary>
    private static bool IsWhole(string path)
    {
        using var file = File.OpenRead(path);
        if (file.Length < sizeof(ulong))
        {
            return false;
        }

        try
        {
            var hash = FileHashes.Of(file, file.Length - sizeof(ulong));
            Span<byte> saved = stackalloc byte[sizeof(ulong)];
            file.ReadExactly(saved);
            return BitConverter.ToUInt64(saved) == hash;
        }
        catch (EndOfStreamException)
        {
            // Cut short while being read: not whole.
            return false;
        }
    }

    /// <summary>An open snapshot: the version each video was saved at, and each space's videos, read once, in order.</summary>
    public sealed class Reader(BinaryReader reader, IReadOnlyDictionary<Guid, DateTimeOffset> versions) : IDisposable
    {
        public IReadOnlyDictionary<Guid, DateTimeOffset> Versions { get; } = versions;

        /// <summary>The next space's videos, each with its owner and the scene of each vector; the whole space is read however many are taken.</summary>
        public IEnumerable<(Guid OwnerId, Guid VideoId, (Guid SceneId, float[] Vector)[] Scenes)> Space()
        {
            while (reader.ReadBoolean())
            {
                var (video, owner, count, dimensions) = (reader.ReadGuid(), reader.ReadGuid(), reader.ReadInt32(), reader.ReadInt32());
                var scenes = new Guid[count];
                reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(scenes.AsSpan()));
                var vectors = new (Guid, float[])[count];
                for (var i = 0; i < count; i++)
                {
                    var vector = new float[dimensions];
                    reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(vector.AsSpan()));
                    vectors[i] = (scenes[i], vector);
                }

                yield return (owner, video, vectors);
            }
        }

        public void Dispose() => reader.Dispose();
    }

    /// <summary>Passes what is written on to <paramref name="inner"/> and hashes it, for the hash at the file's end.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly XxHash64 _hash = new();

        public ulong Hash => _hash.GetCurrentHashAsUInt64();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            _hash.Append(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
