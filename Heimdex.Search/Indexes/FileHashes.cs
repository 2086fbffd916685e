using System.Buffers;
using System.IO.Hashing;

namespace Heimdex.Search.Indexes;

/// <summary>The hash the snapshots keep of their files, so a partial or damaged file is never read as whole.</summary>
internal static class FileHashes
{
    public static ulong Of(string path)
    {
        using var file = File.OpenRead(path);
        return Of(file, file.Length);
    }

    /// <summary>The hash of the stream's next <paramref name="length"/> bytes.</summary>
    public static ulong Of(Stream stream, long length)
    {
        var hash = new XxHash64();
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            for (var left = length; left > 0;)
            {
                var read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (read == 0)
                {
                    throw new EndOfStreamException($"{left} bytes short of the {length} to hash");
                }

                hash.Append(buffer.AsSpan(0, read));
                left -= read;
            }

            return hash.GetCurrentHashAsUInt64();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
