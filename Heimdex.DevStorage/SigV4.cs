using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Heimdex.DevStorage;

public sealed record S3Credentials(string AccessKey, string SecretKey);

/// <summary>What a verified request's body needs to be read: its declared payload hash and, for streaming
/// uploads, the key and seed signature that every chunk signature chains from.</summary>
public sealed record VerifiedRequest(string PayloadHash, byte[] SigningKey, string AmzDate, string Scope, string Signature);

/// <summary>AWS Signature Version 4, as S3 checks it: the Authorization header form and the presigned query form.</summary>
public sealed class SigV4Verifier(S3Credentials credentials, TimeProvider time)
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";
    private const string AmzDateFormat = "yyyyMMdd'T'HHmmss'Z'";
    private static readonly TimeSpan AllowedClockSkew = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan LongestPresignedLifetime = TimeSpan.FromDays(7);

    public VerifiedRequest Verify(HttpRequest request)
    {
        var query = ParseRawQuery(RawQuery(request));
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith(Algorithm + " ", StringComparison.Ordinal))
        {
            return VerifyHeaderSignature(request, query, authorization[(Algorithm.Length + 1)..]);
        }

        if (query.Any(p => p.Name == "X-Amz-Signature"))
        {
            return VerifyPresigned(request, query);
        }

        throw S3Exception.AccessDenied("Anonymous access is not allowed: sign the request with AWS Signature Version 4.");
    }

    private VerifiedRequest VerifyHeaderSignature(HttpRequest request, List<(string Name, string Value)> query, string authorization)
    {
        var fields = authorization.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        if (!fields.TryGetValue("Credential", out var credential)
            || !fields.TryGetValue("SignedHeaders", out var signedHeaders)
            || !fields.TryGetValue("Signature", out var signature))
        {
            throw new S3Exception(400, "AuthorizationHeaderMalformed", "The Authorization header needs Credential, SignedHeaders and Signature.");
        }

        var amzDate = request.Headers["x-amz-date"].ToString();
        var signedAt = ParseAmzDate(amzDate);
        if ((time.GetUtcNow() - signedAt).Duration() > AllowedClockSkew)
        {
            throw new S3Exception(403, "RequestTimeTooSkewed", "The difference between the request time and the server's time is too large.");
        }

        var payloadHash = request.Headers["x-amz-content-sha256"].ToString();
        if (payloadHash.Length == 0)
        {
            throw S3Exception.InvalidArgument("The x-amz-content-sha256 header is required.");
        }

        return Check(request, query, credential, signedHeaders, signature, amzDate, payloadHash);
    }

    private VerifiedRequest VerifyPresigned(HttpRequest request, List<(string Name, string Value)> query)
    {
        string Param(string name) => query.FirstOrDefault(p => p.Name == name).Value
                                     ?? throw S3Exception.AccessDenied($"The presigned URL lacks {name}.");

        if (Param("X-Amz-Algorithm") != Algorithm)
        {
            throw S3Exception.InvalidArgument($"Only {Algorithm} is supported.");
        }

        var amzDate = Param("X-Amz-Date");
        var signedAt = ParseAmzDate(amzDate);
        if (!int.TryParse(Param("X-Amz-Expires"), NumberStyles.None, CultureInfo.InvariantCulture, out var expiresSeconds)
            || TimeSpan.FromSeconds(expiresSeconds) > LongestPresignedLifetime)
        {
            throw S3Exception.InvalidArgument("X-Amz-Expires must be a number of seconds up to 604800.");
        }

        var now = time.GetUtcNow();
        if (now > signedAt.AddSeconds(expiresSeconds))
        {
            throw S3Exception.AccessDenied("Request has expired");
        }

        if (signedAt - now > AllowedClockSkew)
        {
            throw S3Exception.AccessDenied("Request is not valid yet");
        }

        var payloadHash = query.FirstOrDefault(p => p.Name == "X-Amz-Content-Sha256").Value ?? UnsignedPayload;
        var unsignedQuery = query.Where(p => p.Name != "X-Amz-Signature").ToList();
        return Check(request, unsignedQuery, Param("X-Amz-Credential"), Param("X-Amz-SignedHeaders"),
            Param("X-Amz-Signature"), amzDate, payloadHash);
    }

    private VerifiedRequest Check(
        HttpRequest request, List<(string Name, string Value)> query, string credential, string signedHeaders,
        string signature, string amzDate, string payloadHash)
    {
        // Credential = AKID/yyyymmdd/region/s3/aws4_request
        var credentialParts = credential.Split('/');
        if (credentialParts.Length != 5 || credentialParts[3] != "s3" || credentialParts[4] != "aws4_request"
            || credentialParts[1] != amzDate[..8])
        {
            throw new S3Exception(400, "AuthorizationHeaderMalformed", $"The credential '{credential}' is malformed.");
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(credentialParts[0]), Encoding.UTF8.GetBytes(credentials.AccessKey)))
        {
            throw new S3Exception(403, "InvalidAccessKeyId", "The AWS access key Id you provided does not exist in our records.");
        }

        var canonicalRequest = string.Join('\n',
            request.Method,
            CanonicalUri(RawPath(request)),
            CanonicalQuery(query),
            CanonicalHeaders(request, signedHeaders),
            signedHeaders,
            payloadHash);
        var scope = string.Join('/', credentialParts[1..]);
        var stringToSign = string.Join('\n', Algorithm, amzDate, scope, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));
        var signingKey = SigningKey(credentials.SecretKey, credentialParts[1], credentialParts[2]);
        var expected = Hex(HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(stringToSign)));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)))
        {
            throw S3Exception.SignatureDoesNotMatch();
        }

        return new VerifiedRequest(payloadHash, signingKey, amzDate, scope, signature);
    }

    public static byte[] SigningKey(string secretKey, string date, string region)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secretKey), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, "s3"u8.ToArray());
        return HMACSHA256.HashData(key, "aws4_request"u8.ToArray());
    }

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    private static DateTimeOffset ParseAmzDate(string amzDate) =>
        DateTimeOffset.TryParseExact(amzDate, AmzDateFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            ? parsed
            : throw S3Exception.AccessDenied("The request needs a valid X-Amz-Date (yyyyMMddTHHmmssZ).");

    private static string RawTarget(HttpRequest request) =>
        request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path + request.QueryString;

    public static string RawPath(HttpRequest request)
    {
        var target = RawTarget(request);
        var queryStart = target.IndexOf('?', StringComparison.Ordinal);
        return queryStart < 0 ? target : target[..queryStart];
    }

    private static string RawQuery(HttpRequest request)
    {
        var target = RawTarget(request);
        var queryStart = target.IndexOf('?', StringComparison.Ordinal);
        return queryStart < 0 ? "" : target[(queryStart + 1)..];
    }

    /// <summary>Query parameters decoded, in their order; S3 clients encode '+' as %2B, so a '+' is literal.</summary>
    public static List<(string Name, string Value)> ParseRawQuery(string rawQuery) =>
        rawQuery.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .Select(pair => (Uri.UnescapeDataString(pair[0]), pair.Length > 1 ? Uri.UnescapeDataString(pair[1]) : ""))
            .ToList();

    /// <summary>The path as the client signed it: every segment encoded once, RFC 3986 style, slashes kept.</summary>
    private static string CanonicalUri(string rawPath) =>
        string.Join('/', rawPath.Split('/').Select(segment => UriEncode(Uri.UnescapeDataString(segment))));

    private static string CanonicalQuery(IEnumerable<(string Name, string Value)> query) =>
        string.Join('&', query
            .Select(p => (Name: UriEncode(p.Name), Value: UriEncode(p.Value)))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => $"{p.Name}={p.Value}"));

    private static string CanonicalHeaders(HttpRequest request, string signedHeaders)
    {
        var builder = new StringBuilder();
        foreach (var name in signedHeaders.Split(';'))
        {
            var value = name == "host" ? request.Host.Value ?? "" : string.Join(',', request.Headers[name].Select(v => v ?? ""));
            builder.Append(name).Append(':').Append(string.Join(' ', value.Split(' ', StringSplitOptions.RemoveEmptyEntries))).Append('\n');
        }

        return builder.ToString();
    }

    public static string UriEncode(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
