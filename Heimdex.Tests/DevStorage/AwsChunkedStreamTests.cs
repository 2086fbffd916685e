using System.Security.Cryptography;
using System.Text;
using Heimdex.DevStorage;

namespace Heimdex.Tests.DevStorage;

/// <summary>Streaming uploads: each chunk's signature chains from the previous one, so no chunk can be altered, dropped or reordered.</summary>
public sealed class AwsChunkedStreamTests
{
    private const string AmzDate = "20261123T120000Z";
    private const string Scope = "20261123/us-east-1/s3/aws4_request";
    private const string SeedSignature = "0000000000000000000000000000000000000000000000000000000000000000";
    private static readonly byte[] Key = SigV4Verifier.SigningKey("secret", "20261123", "us-east-1");
    private static readonly VerifiedRequest Signing = new("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", Key, AmzDate, Scope, SeedSignature);

    private static byte[] Encode(IEnumerable<byte[]> chunks)
    {
        var body = new MemoryStream();
        var previous = SeedSignature;
        foreach (var chunk in chunks.Append([]))
        {
            var stringToSign = string.Join('\n', "AWS4-HMAC-SHA256-PAYLOAD", AmzDate, Scope, previous,
                Convert.ToHexStringLower(SHA256.HashData([])), Convert.ToHexStringLower(SHA256.HashData(chunk)));
            previous = Convert.ToHexStringLower(HMACSHA256.HashData(Key, Encoding.UTF8.GetBytes(stringToSign)));
            body.Write(Encoding.ASCII.GetBytes($"{chunk.Length:x};chunk-signature={previous}\r\n"));
            body.Write(chunk);
            body.Write("\r\n"u8);
        }

        return body.ToArray();
    }

    private static async Task<byte[]> DecodeAsync(byte[] body)
    {
        await using var decoded = new AwsChunkedStream(new MemoryStream(body), Signing, checksum: null);
        using var output = new MemoryStream();
        await decoded.CopyToAsync(output, 7, TestContext.Current.CancellationToken); // odd buffer: reads straddle chunk edges
        return output.ToArray();
    }

    [Fact]
    public async Task Correctly_signed_chunks_decode_to_the_original_bytes()
    {
        byte[][] chunks = [RandomNumberGenerator.GetBytes(100), RandomNumberGenerator.GetBytes(37)];

        Assert.Equal(chunks[0].Concat(chunks[1]), await DecodeAsync(Encode(chunks)));
    }

    [Fact]
    public async Task An_altered_byte_or_swapped_chunk_payloads_are_refused()
    {
        // Equal lengths, so swapping payloads keeps every size header valid and only the signatures can tell.
        byte[][] chunks = [Encoding.ASCII.GetBytes("first chunk!"), Encoding.ASCII.GetBytes("second chunk")];
        var altered = Encoding.ASCII.GetString(Encode(chunks)).Replace("first chunk!", "First chunk!", StringComparison.Ordinal);
        var swapped = Encoding.ASCII.GetString(Encode(chunks))
            .Replace("first chunk!", "\0", StringComparison.Ordinal)
            .Replace("second chunk", "first chunk!", StringComparison.Ordinal)
            .Replace("\0", "second chunk", StringComparison.Ordinal);

        foreach (var tampered in new[] { altered, swapped })
        {
            var refused = await Assert.ThrowsAsync<S3Exception>(() => DecodeAsync(Encoding.ASCII.GetBytes(tampered)));
            Assert.Equal("SignatureDoesNotMatch", refused.Code);
        }
    }
}
