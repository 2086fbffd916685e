using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Heimdex.DevStorage;

/// <summary>The flexible checksums S3 clients send as an <c>x-amz-checksum-*</c> trailer, computed over the decoded body.</summary>
public abstract class TrailerChecksum(string trailerName)
{
    public string TrailerName { get; } = trailerName;

    public abstract void Append(ReadOnlySpan<byte> bytes);

    public abstract string Base64();

    public static TrailerChecksum? For(string? trailerName) => trailerName?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "x-amz-checksum-crc32" => new Crc32Checksum(),
        "x-amz-checksum-crc32c" => new ReflectedCrc("x-amz-checksum-crc32c", 32, 0x82F63B78),
        "x-amz-checksum-crc64nvme" => new ReflectedCrc("x-amz-checksum-crc64nvme", 64, 0x9A6C9329AC4BC9B5),
        "x-amz-checksum-sha1" => new CryptoChecksum("x-amz-checksum-sha1", HashAlgorithmName.SHA1),
        "x-amz-checksum-sha256" => new CryptoChecksum("x-amz-checksum-sha256", HashAlgorithmName.SHA256),
        var other => throw S3Exception.InvalidArgument($"Unsupported trailer '{other}'."),
    };

    private sealed class Crc32Checksum() : TrailerChecksum("x-amz-checksum-crc32")
    {
        private readonly System.IO.Hashing.Crc32 _crc = new();

        public override void Append(ReadOnlySpan<byte> bytes) => _crc.Append(bytes);

        // S3 writes CRCs big-endian; System.IO.Hashing returns them little-endian.
        public override string Base64() => Convert.ToBase64String(_crc.GetCurrentHash().Reverse().ToArray());
    }

    private sealed class CryptoChecksum(string trailerName, HashAlgorithmName algorithm) : TrailerChecksum(trailerName)
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(algorithm);

        public override void Append(ReadOnlySpan<byte> bytes) => _hash.AppendData(bytes);

        public override string Base64() => Convert.ToBase64String(_hash.GetCurrentHash());
    }

    /// <summary>Table-driven reflected CRC (CRC-32C, CRC-64/NVME), which System.IO.Hashing does not offer.</summary>
    private sealed class ReflectedCrc : TrailerChecksum
    {
        private readonly ulong[] _table = new ulong[256];
        private readonly ulong _mask;
        private readonly int _width;
        private ulong _crc;

        public ReflectedCrc(string trailerName, int width, ulong reflectedPolynomial) : base(trailerName)
        {
            _width = width;
            _mask = width == 64 ? ulong.MaxValue : (1UL << width) - 1;
            _crc = _mask;
            for (ulong i = 0; i < 256; i++)
            {
                var c = i;
                for (var bit = 0; bit < 8; bit++)
                {
                    c = (c & 1) != 0 ? (c >> 1) ^ reflectedPolynomial : c >> 1;
                }

                _table[i] = c;
            }
        }

        public override void Append(ReadOnlySpan<byte> bytes)
        {
            var crc = _crc;
            foreach (var b in bytes)
            {
                crc = _table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            }

            _crc = crc;
        }

        public override string Base64()
        {
            Span<byte> value = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(value, _crc ^ _mask);
            return Convert.ToBase64String(value[(8 - (_width / 8))..]);
        }
    }
}
