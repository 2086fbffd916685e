using System.Security.Cryptography;
using System.Text;

namespace Heimdex.DevStorage;

/// <summary>Turns a verified request's body into the bytes the client meant, checking what it signed on the way.</summary>
public static class RequestBodies
{
    private const string SignedStreamingPrefix = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    private const string UnsignedStreaming = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

    /// <param name="announcedTrailer">The <c>x-amz-trailer</c> header: the checksum the client will send after the body.</param>
    public static Stream Open(Stream body, VerifiedRequest verified, string? announcedTrailer) => verified.PayloadHash switch
    {
        SigV4Verifier.UnsignedPayload => body,
        UnsignedStreaming => new AwsChunkedStream(body, signing: null, TrailerChecksum.For(announcedTrailer)),
        var hash when hash.StartsWith(SignedStreamingPrefix, StringComparison.Ordinal) =>
            new AwsChunkedStream(body, verified, TrailerChecksum.For(announcedTrailer)),
        var hash when hash.Length == 64 && hash.All(char.IsAsciiHexDigit) => new Sha256CheckingStream(body, hash),
        var other => throw S3Exception.InvalidArgument($"Unsupported x-amz-content-sha256 value '{other}'."),
    };
}

/// <summary>A read-only, forward-only view of a request body; subclasses supply the bytes.</summary>
public abstract class RequestBodyStream : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>Passes the body through and fails at its end when it does not hash to what the client signed.</summary>
public sealed class Sha256CheckingStream(Stream inner, string expectedHex) : RequestBodyStream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        if (read > 0)
        {
            _hash.AppendData(buffer.Span[..read]);
        }
        else if (!string.Equals(SigV4Verifier.Hex(_hash.GetHashAndReset()), expectedHex, StringComparison.OrdinalIgnoreCase))
        {
            throw new S3Exception(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
        }

        return read;
    }

    protected override void Dispose(bool disposing)
    {
        _hash.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>
/// Decodes <c>Content-Encoding: aws-chunked</c>: <c>hex-size[;chunk-signature=sig]\r\n data \r\n</c> … a zero-size chunk,
/// then optional trailers. When the request was signed for streaming, every chunk signature (chained from the seed
/// signature) and the trailer signature are verified; checksum trailers are checked against the decoded bytes.
/// </summary>
public sealed class AwsChunkedStream(Stream inner, VerifiedRequest? signing, TrailerChecksum? checksum) : RequestBodyStream
{
    private const int MaxLineLength = 8192;
    private static readonly string EmptyHash = SigV4Verifier.Hex(SHA256.HashData([]));

    private readonly byte[] _buffer = new byte[1 << 16];
    private readonly IncrementalHash _chunkHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int _position;
    private int _length;
    private long _chunkRemaining;
    private string? _openChunkSignature;
    private bool _inChunk;
    private bool _finished;
    private string? _previousSignature = signing?.Signature;

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        while (!_finished)
        {
            if (_chunkRemaining > 0)
            {
                if (_position == _length && !await FillAsync(cancellationToken))
                {
                    throw Malformed("The body ended inside a chunk.");
                }

                var count = (int)Math.Min(Math.Min(destination.Length, _chunkRemaining), _length - _position);
                var bytes = _buffer.AsSpan(_position, count);
                bytes.CopyTo(destination.Span);
                _chunkHash.AppendData(bytes);
                checksum?.Append(bytes);
                _position += count;
                _chunkRemaining -= count;
                return count;
            }

            if (_inChunk)
            {
                if (await ReadLineAsync(cancellationToken) != "")
                {
                    throw Malformed("A chunk is longer than its declared size.");
                }

                VerifyChunkSignature();
                _inChunk = false;
            }

            await StartChunkAsync(cancellationToken);
        }

        return 0;
    }

    private async Task StartChunkAsync(CancellationToken cancellationToken)
    {
        var header = await ReadLineAsync(cancellationToken) ?? throw Malformed("The body ended before its final chunk.");
        var fields = header.Split(';', 2);
        if (!long.TryParse(fields[0], System.Globalization.NumberStyles.AllowHexSpecifier, null, out var size) || size < 0)
        {
            throw Malformed($"Bad chunk header '{header}'.");
        }

        _openChunkSignature = fields.Length > 1 && fields[1].StartsWith("chunk-signature=", StringComparison.Ordinal)
            ? fields[1]["chunk-signature=".Length..]
            : null;
        if (signing is not null && _openChunkSignature is null)
        {
            throw S3Exception.SignatureDoesNotMatch();
        }

        _chunkRemaining = size;
        _inChunk = true;
        if (size == 0)
        {
            VerifyChunkSignature();
            _inChunk = false;
            await ReadTrailersAsync(cancellationToken);
            _finished = true;
        }
    }

    private void VerifyChunkSignature()
    {
        var chunkHash = SigV4Verifier.Hex(_chunkHash.GetHashAndReset());
        if (signing is null)
        {
            return;
        }

        var expected = Sign("AWS4-HMAC-SHA256-PAYLOAD", EmptyHash, chunkHash);
        if (expected != _openChunkSignature)
        {
            throw S3Exception.SignatureDoesNotMatch();
        }

        _previousSignature = expected;
    }

    private async Task ReadTrailersAsync(CancellationToken cancellationToken)
    {
        var canonical = new StringBuilder();
        string? trailerSignature = null;
        while (await ReadLineAsync(cancellationToken) is { Length: > 0 } line)
        {
            var separator = line.IndexOf(':', StringComparison.Ordinal);
            if (separator <= 0)
            {
                throw Malformed($"Bad trailer '{line}'.");
            }

            var name = line[..separator].Trim().ToLowerInvariant();
            var value = line[(separator + 1)..].Trim();
            if (name == "x-amz-trailer-signature")
            {
                trailerSignature = value;
                continue;
            }

            canonical.Append(name).Append(':').Append(value).Append('\n');
            if (checksum is not null && name == checksum.TrailerName && value != checksum.Base64())
            {
                throw new S3Exception(400, "BadDigest", $"The {name} you specified did not match the calculated checksum.");
            }
        }

        if (signing is not null && canonical.Length > 0
            && Sign("AWS4-HMAC-SHA256-TRAILER", SigV4Verifier.Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())))) != trailerSignature)
        {
            throw S3Exception.SignatureDoesNotMatch();
        }
    }

    private string Sign(string algorithm, params string[] hashes)
    {
        var stringToSign = string.Join('\n', [algorithm, signing!.AmzDate, signing.Scope, _previousSignature!, .. hashes]);
        return SigV4Verifier.Hex(HMACSHA256.HashData(signing.SigningKey, Encoding.UTF8.GetBytes(stringToSign)));
    }

    /// <summary>One CRLF-terminated line; null at the end of the body.</summary>
    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new List<byte>();
        while (true)
        {
            if (_position == _length && !await FillAsync(cancellationToken))
            {
                return line.Count == 0 ? null : throw Malformed("The body ended inside a line.");
            }

            var b = _buffer[_position++];
            if (b == '\n' && line.Count > 0 && line[^1] == '\r')
            {
                return Encoding.ASCII.GetString(line.ToArray(), 0, line.Count - 1);
            }

            line.Add(b);
            if (line.Count > MaxLineLength)
            {
                throw Malformed("A chunk header or trailer is too long.");
            }
        }
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        _position = 0;
        _length = await inner.ReadAsync(_buffer, cancellationToken);
        return _length > 0;
    }

    private static S3Exception Malformed(string message) => new(400, "IncompleteBody", "Malformed aws-chunked body: " + message);

    protected override void Dispose(bool disposing)
    {
        _chunkHash.Dispose();
        base.Dispose(disposing);
    }
}
