using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Heimdex.Conventions;
using Microsoft.AspNetCore.Http;

namespace Heimdex.DevStorage;

/// <summary>The S3 REST operations Heimdex and its tests use, path-style, on a <see cref="FileObjectStore"/>.</summary>
public sealed class S3RequestHandler(FileObjectStore store, SigV4Verifier verifier, ILogger<S3RequestHandler> logger)
{
    private static readonly XNamespace Ns = "http://s3.amazonaws.com/doc/2006-03-01/";
    private const int MaxXmlBodyBytes = 4 * 1024 * 1024;

    public async Task HandleAsync(HttpContext context)
    {
        var requestId = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        context.Response.Headers["x-amz-request-id"] = requestId;
        var request = context.Request;
        try
        {
            if (request.Path.StartsWithSegments(StorageServer.LivenessPath))
            {
                return; // MinIO's probe, so health checks work the same against MinIO and this server
            }

            var verified = verifier.Verify(request);
            var (bucket, key) = SplitPath(SigV4Verifier.RawPath(request));
            var query = SigV4Verifier.ParseRawQuery(request.QueryString.Value?.TrimStart('?') ?? "")
                .GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
            await using var body = RequestBodies.Open(request.Body, verified, request.Headers["x-amz-trailer"].FirstOrDefault());
            var operation = new S3Operation(context, bucket, key, query, body);
            await DispatchAsync(operation);
        }
        catch (S3Exception error)
        {
            if (error.StatusCode >= 500)
            {
                logger.LogError(error, "S3 request {Method} {Path} failed", request.Method, request.Path);
            }

            await WriteErrorAsync(context, error, requestId);
        }
    }

    private sealed record S3Operation(HttpContext Context, string Bucket, string Key, Dictionary<string, string> Query, Stream Body)
    {
        public HttpRequest Request => Context.Request;
        public HttpResponse Response => Context.Response;
        public CancellationToken Aborted => Context.RequestAborted;
        public bool Has(string parameter) => Query.ContainsKey(parameter);
        public string? Get(string parameter) => Query.GetValueOrDefault(parameter);
    }

    private Task DispatchAsync(S3Operation op) => (op.Request.Method, op.Bucket.Length > 0, op.Key.Length > 0) switch
    {
        ("GET", false, _) => ListBucketsAsync(op),
        ("PUT", true, false) => CreateBucketAsync(op),
        ("HEAD", true, false) => Done(op, 200, () => _ = store.BucketExists(op.Bucket) ? 0 : throw S3Exception.NoSuchBucket(op.Bucket)),
        ("DELETE", true, false) => Done(op, 204, () => store.DeleteBucket(op.Bucket)),
        ("GET", true, false) when op.Has("location") => WriteXmlAsync(op.Response, new XElement(Ns + "LocationConstraint")),
        ("GET", true, false) when op.Has("uploads") => ListMultipartUploadsAsync(op),
        ("GET", true, false) => ListObjectsAsync(op),
        ("POST", true, false) when op.Has("delete") => DeleteObjectsAsync(op),
        ("PUT", true, true) when op.Has("uploadId") => UploadPartAsync(op),
        ("PUT", true, true) when op.Request.Headers.ContainsKey("x-amz-copy-source") =>
            throw new S3Exception(501, "NotImplemented", "CopyObject is not supported by the development server."),
        ("PUT", true, true) => PutObjectAsync(op),
        ("GET", true, true) when op.Has("uploadId") => ListPartsAsync(op),
        ("GET" or "HEAD", true, true) => GetObjectAsync(op),
        ("DELETE", true, true) when op.Has("uploadId") => Done(op, 204, () => store.AbortMultipartUpload(op.Bucket, op.Key, op.Get("uploadId")!)),
        ("DELETE", true, true) => Done(op, 204, () => store.DeleteObject(op.Bucket, op.Key)),
        ("POST", true, true) when op.Has("uploads") => CreateMultipartUploadAsync(op),
        ("POST", true, true) when op.Has("uploadId") => CompleteMultipartUploadAsync(op),
        _ => throw new S3Exception(405, "MethodNotAllowed", $"{op.Request.Method} is not allowed on this resource."),
    };

    private static Task Done(S3Operation op, int status, Action action)
    {
        action();
        op.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    private Task ListBucketsAsync(S3Operation op) =>
        WriteXmlAsync(op.Response, new XElement(Ns + "ListAllMyBucketsResult",
            new XElement(Ns + "Owner", new XElement(Ns + "ID", "heimdex"), new XElement(Ns + "DisplayName", "heimdex")),
            new XElement(Ns + "Buckets", store.ListBuckets().Select(b => new XElement(Ns + "Bucket",
                new XElement(Ns + "Name", b.Name), new XElement(Ns + "CreationDate", Iso(b.Created)))))));

    private async Task CreateBucketAsync(S3Operation op)
    {
        await op.Body.CopyToAsync(Stream.Null, op.Aborted); // an optional CreateBucketConfiguration; one region here
        store.CreateBucket(op.Bucket);
        op.Response.Headers.Location = "/" + op.Bucket;
    }

    private async Task PutObjectAsync(S3Operation op)
    {
        var stored = await store.PutObjectAsync(op.Bucket, op.Key, op.Body,
            op.Request.ContentType ?? "binary/octet-stream", UserMetadata(op.Request), op.Aborted);
        op.Response.Headers.ETag = stored.ETag;
    }

    private async Task GetObjectAsync(S3Operation op)
    {
        var stored = store.GetObject(op.Bucket, op.Key);
        var headers = op.Response.Headers;
        headers.ETag = stored.ETag;
        headers.LastModified = stored.LastModified.ToString("R", CultureInfo.InvariantCulture);
        headers.AcceptRanges = "bytes";
        foreach (var (name, value) in stored.Metadata)
        {
            headers["x-amz-meta-" + name] = value;
        }

        if (op.Request.Headers.IfNoneMatch.Any(tag => tag == stored.ETag || tag == "*"))
        {
            op.Response.StatusCode = 304;
            return;
        }

        if (op.Request.Headers.IfMatch is { Count: > 0 } ifMatch && !ifMatch.Any(tag => tag == stored.ETag || tag == "*"))
        {
            throw new S3Exception(412, "PreconditionFailed", "At least one of the preconditions you specified did not hold.");
        }

        var range = ByteRanges.Resolve(op.Request.Headers.Range.ToString(), stored.Size);
        if (range is { Length: <= 0 })
        {
            throw new S3Exception(416, "InvalidRange", $"The requested range '{op.Request.Headers.Range}' is not satisfiable for {stored.Size} bytes.");
        }

        var (offset, length) = range ?? (0, stored.Size);
        op.Response.ContentType = stored.ContentType;
        op.Response.ContentLength = length;
        if (length != stored.Size || op.Request.Headers.Range.Count > 0)
        {
            op.Response.StatusCode = 206;
            headers.ContentRange = $"bytes {offset}-{offset + length - 1}/{stored.Size}";
        }

        if (op.Request.Method == "HEAD")
        {
            return;
        }

        await using var data = store.OpenObjectData(op.Bucket, op.Key);
        data.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[1 << 16];
        var remaining = length;
        while (remaining > 0)
        {
            var read = await data.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), op.Aborted);
            if (read == 0)
            {
                break;
            }

            await op.Response.Body.WriteAsync(buffer.AsMemory(0, read), op.Aborted);
            remaining -= read;
        }
    }

    private Task ListObjectsAsync(S3Operation op)
    {
        var isV2 = op.Get("list-type") == "2";
        var prefix = op.Get("prefix") ?? "";
        var delimiter = op.Get("delimiter") ?? "";
        var urlEncoded = op.Get("encoding-type") == "url";
        var maxKeys = int.TryParse(op.Get("max-keys"), NumberStyles.None, CultureInfo.InvariantCulture, out var requested)
            ? Math.Min(requested, 1000)
            : 1000;
        var marker = isV2
            ? op.Get("continuation-token") is { } token ? DecodeToken(token) : op.Get("start-after")
            : op.Get("marker");

        var page = ListPage(op.Bucket, prefix, delimiter, marker, maxKeys);
        string Encode(string value) => urlEncoded ? SigV4Verifier.UriEncode(value) : value;
        var result = new XElement(Ns + "ListBucketResult",
            new XElement(Ns + "Name", op.Bucket),
            new XElement(Ns + "Prefix", Encode(prefix)),
            new XElement(Ns + "MaxKeys", maxKeys),
            delimiter.Length > 0 ? new XElement(Ns + "Delimiter", Encode(delimiter)) : null,
            new XElement(Ns + "IsTruncated", page.Truncated ? "true" : "false"),
            urlEncoded ? new XElement(Ns + "EncodingType", "url") : null,
            page.Objects.Select(o => new XElement(Ns + "Contents",
                new XElement(Ns + "Key", Encode(o.Key)),
                new XElement(Ns + "LastModified", Iso(o.LastModified)),
                new XElement(Ns + "ETag", o.ETag),
                new XElement(Ns + "Size", o.Size),
                new XElement(Ns + "StorageClass", "STANDARD"))),
            page.CommonPrefixes.Select(p => new XElement(Ns + "CommonPrefixes", new XElement(Ns + "Prefix", Encode(p)))));
        if (isV2)
        {
            result.Add(new XElement(Ns + "KeyCount", page.Objects.Count + page.CommonPrefixes.Count));
            if (op.Get("continuation-token") is { } continuation)
            {
                result.Add(new XElement(Ns + "ContinuationToken", continuation));
            }

            if (op.Get("start-after") is { } startAfter)
            {
                result.Add(new XElement(Ns + "StartAfter", Encode(startAfter)));
            }

            if (page.Truncated)
            {
                result.Add(new XElement(Ns + "NextContinuationToken", EncodeToken(page.LastReturned!)));
            }
        }
        else
        {
            result.Add(new XElement(Ns + "Marker", Encode(marker ?? "")));
            if (page.Truncated)
            {
                result.Add(new XElement(Ns + "NextMarker", Encode(page.LastReturned!)));
            }
        }

        return WriteXmlAsync(op.Response, result);
    }

    private sealed record ListingPage(List<StoredObject> Objects, List<string> CommonPrefixes, bool Truncated, string? LastReturned);

    /// <summary>Keys after <paramref name="marker"/>, rolling keys that share a delimited prefix into one common prefix;
    /// a marker that is itself a common prefix skips every key under it.</summary>
    private ListingPage ListPage(string bucket, string prefix, string delimiter, string? marker, int maxKeys)
    {
        var page = new ListingPage([], [], false, null);
        var markerIsCommonPrefix = delimiter.Length > 0 && marker is not null && marker.Length > prefix.Length
                                   && marker.StartsWith(prefix, StringComparison.Ordinal)
                                   && marker.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal) == marker.Length - delimiter.Length;
        string? last = null;
        foreach (var stored in store.ListObjects(bucket, prefix, marker))
        {
            if (markerIsCommonPrefix && stored.Key.StartsWith(marker!, StringComparison.Ordinal))
            {
                continue;
            }

            var delimiterAt = delimiter.Length > 0 ? stored.Key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal) : -1;
            var commonPrefix = delimiterAt >= 0 ? stored.Key[..(delimiterAt + delimiter.Length)] : null;
            if (commonPrefix is not null && commonPrefix == last)
            {
                continue;
            }

            if (page.Objects.Count + page.CommonPrefixes.Count >= maxKeys)
            {
                return page with { Truncated = maxKeys > 0, LastReturned = last };
            }

            if (commonPrefix is not null)
            {
                page.CommonPrefixes.Add(commonPrefix);
                last = commonPrefix;
            }
            else
            {
                page.Objects.Add(stored);
                last = stored.Key;
            }
        }

        return page with { LastReturned = last };
    }

    private async Task DeleteObjectsAsync(S3Operation op)
    {
        var request = await ReadXmlAsync(op);
        var quiet = string.Equals(request.Element(Ns + "Quiet")?.Value ?? request.Element("Quiet")?.Value, "true", StringComparison.OrdinalIgnoreCase);
        var keys = request.Elements().Where(e => e.Name.LocalName == "Object")
            .Select(o => o.Elements().FirstOrDefault(e => e.Name.LocalName == "Key")?.Value
                         ?? throw S3Exception.MalformedXml("Every Object needs a Key."))
            .ToList();
        if (keys.Count > 1000)
        {
            throw S3Exception.MalformedXml("At most 1000 keys can be deleted in one request.");
        }

        foreach (var key in keys)
        {
            store.DeleteObject(op.Bucket, key);
        }

        await WriteXmlAsync(op.Response, new XElement(Ns + "DeleteResult",
            quiet ? null : keys.Select(k => new XElement(Ns + "Deleted", new XElement(Ns + "Key", k)))));
    }

    private Task CreateMultipartUploadAsync(S3Operation op)
    {
        var upload = store.CreateMultipartUpload(op.Bucket, op.Key,
            op.Request.ContentType ?? "binary/octet-stream", UserMetadata(op.Request));
        return WriteXmlAsync(op.Response, new XElement(Ns + "InitiateMultipartUploadResult",
            new XElement(Ns + "Bucket", op.Bucket), new XElement(Ns + "Key", op.Key), new XElement(Ns + "UploadId", upload.UploadId)));
    }

    private async Task UploadPartAsync(S3Operation op)
    {
        if (!int.TryParse(op.Get("partNumber"), NumberStyles.None, CultureInfo.InvariantCulture, out var partNumber))
        {
            throw S3Exception.InvalidArgument("partNumber must be an integer between 1 and 10000.");
        }

        var part = await store.UploadPartAsync(op.Bucket, op.Key, op.Get("uploadId")!, partNumber, op.Body, op.Aborted);
        op.Response.Headers.ETag = part.ETag;
    }

    private Task ListPartsAsync(S3Operation op)
    {
        var uploadId = op.Get("uploadId")!;
        var after = int.TryParse(op.Get("part-number-marker"), CultureInfo.InvariantCulture, out var marker) ? marker : 0;
        var maxParts = int.TryParse(op.Get("max-parts"), CultureInfo.InvariantCulture, out var max) ? Math.Clamp(max, 0, 1000) : 1000;
        var remaining = store.ListParts(op.Bucket, op.Key, uploadId).Where(p => p.PartNumber > after).ToList();
        var parts = remaining.Take(maxParts).ToList();
        var truncated = remaining.Count > parts.Count;
        return WriteXmlAsync(op.Response, new XElement(Ns + "ListPartsResult",
            new XElement(Ns + "Bucket", op.Bucket),
            new XElement(Ns + "Key", op.Key),
            new XElement(Ns + "UploadId", uploadId),
            new XElement(Ns + "PartNumberMarker", after),
            new XElement(Ns + "NextPartNumberMarker", parts.LastOrDefault()?.PartNumber ?? after),
            new XElement(Ns + "MaxParts", maxParts),
            new XElement(Ns + "IsTruncated", truncated ? "true" : "false"),
            new XElement(Ns + "StorageClass", "STANDARD"),
            parts.Select(p => new XElement(Ns + "Part",
                new XElement(Ns + "PartNumber", p.PartNumber),
                new XElement(Ns + "LastModified", Iso(p.LastModified)),
                new XElement(Ns + "ETag", p.ETag),
                new XElement(Ns + "Size", p.Size)))));
    }

    private Task ListMultipartUploadsAsync(S3Operation op) =>
        WriteXmlAsync(op.Response, new XElement(Ns + "ListMultipartUploadsResult",
            new XElement(Ns + "Bucket", op.Bucket),
            new XElement(Ns + "Prefix", op.Get("prefix") ?? ""),
            new XElement(Ns + "MaxUploads", 1000),
            new XElement(Ns + "IsTruncated", "false"),
            store.ListMultipartUploads(op.Bucket, op.Get("prefix") ?? "").Select(u => new XElement(Ns + "Upload",
                new XElement(Ns + "Key", u.Key),
                new XElement(Ns + "UploadId", u.UploadId),
                new XElement(Ns + "StorageClass", "STANDARD"),
                new XElement(Ns + "Initiated", Iso(u.Initiated))))));

    private async Task CompleteMultipartUploadAsync(S3Operation op)
    {
        var request = await ReadXmlAsync(op);
        var parts = request.Elements().Where(e => e.Name.LocalName == "Part").Select(part =>
        {
            string Field(string name) => part.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value
                                         ?? throw S3Exception.MalformedXml($"Every Part needs a {name}.");
            return int.TryParse(Field("PartNumber"), CultureInfo.InvariantCulture, out var number)
                ? new CompletedPart(number, Field("ETag"))
                : throw S3Exception.MalformedXml("PartNumber must be an integer.");
        }).ToList();
        var stored = await store.CompleteMultipartUploadAsync(op.Bucket, op.Key, op.Get("uploadId")!, parts, op.Aborted);
        await WriteXmlAsync(op.Response, new XElement(Ns + "CompleteMultipartUploadResult",
            new XElement(Ns + "Location", $"{op.Request.Scheme}://{op.Request.Host}/{op.Bucket}/{op.Key}"),
            new XElement(Ns + "Bucket", op.Bucket),
            new XElement(Ns + "Key", op.Key),
            new XElement(Ns + "ETag", stored.ETag)));
    }

    private static async Task<XElement> ReadXmlAsync(S3Operation op)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await op.Body.ReadAsync(chunk, op.Aborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxXmlBodyBytes)
            {
                throw S3Exception.MalformedXml("The XML body is too large.");
            }
        }

        buffer.Position = 0;
        try
        {
            return XElement.Load(buffer);
        }
        catch (System.Xml.XmlException error)
        {
            throw S3Exception.MalformedXml("The XML you provided was not well-formed: " + error.Message);
        }
    }

    private static Dictionary<string, string> UserMetadata(HttpRequest request) =>
        request.Headers.Where(h => h.Key.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key["x-amz-meta-".Length..].ToLowerInvariant(), h => h.Value.ToString());

    private static (string Bucket, string Key) SplitPath(string rawPath)
    {
        var trimmed = rawPath.TrimStart('/');
        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        return slash < 0
            ? (Uri.UnescapeDataString(trimmed), "")
            : (Uri.UnescapeDataString(trimmed[..slash]), Uri.UnescapeDataString(trimmed[(slash + 1)..]));
    }

    private static string EncodeToken(string marker) => Convert.ToBase64String(Encoding.UTF8.GetBytes(marker));

    private static string DecodeToken(string token)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            throw S3Exception.InvalidArgument("The continuation token provided is incorrect.");
        }
    }

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static async Task WriteXmlAsync(HttpResponse response, XElement element)
    {
        response.ContentType = "application/xml";
        var xml = Encoding.UTF8.GetBytes(new XDocument(new XDeclaration("1.0", "UTF-8", null), element).Declaration + element.ToString(SaveOptions.DisableFormatting));
        response.ContentLength = xml.Length;
        await response.Body.WriteAsync(xml);
    }

    private static async Task WriteErrorAsync(HttpContext context, S3Exception error, string requestId)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            context.Abort(); // mid-body: the client must see a broken response, not a short one
            return;
        }

        response.Clear();
        response.Headers["x-amz-request-id"] = requestId;
        response.StatusCode = error.StatusCode;
        if (context.Request.Method == "HEAD")
        {
            return; // HEAD responses carry no body; clients read the status alone
        }

        await WriteXmlAsync(response, new XElement("Error",
            new XElement("Code", error.Code),
            new XElement("Message", error.Message),
            new XElement("Resource", context.Request.Path.Value),
            new XElement("RequestId", requestId)));
    }
}
