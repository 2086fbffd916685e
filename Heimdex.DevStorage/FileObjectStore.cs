using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Heimdex.DevStorage;

public sealed record StoredObject(
    string Key,
    long Size,
    string ETag,
    string ContentType,
    DateTimeOffset LastModified,
    IReadOnlyDictionary<string, string> Metadata);

public sealed record MultipartUpload(
    string UploadId,
    string Bucket,
    string Key,
    string ContentType,
    DateTimeOffset Initiated,
    IReadOnlyDictionary<string, string> Metadata);

public sealed record UploadedPart(int PartNumber, long Size, string ETag, DateTimeOffset LastModified);

public sealed record CompletedPart(int PartNumber, string ETag);

/// <summary>
/// Buckets, objects and multipart uploads on the local file system. Object files are named by a hash of their
/// key, so no client-supplied text ever becomes a path; a sorted in-memory index (rebuilt from the metadata files
/// at start) serves listings in key order.
/// </summary>
public sealed class FileObjectStore
{
    /// <summary>S3's lower bound for every part but the last.</summary>
    public const long MinimumPartSize = 5 * 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly string _bucketsRoot;
    private readonly string _multipartRoot;
    private readonly string _tempRoot;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SortedDictionary<string, StoredObject>> _buckets = new(StringComparer.Ordinal);

    public FileObjectStore(string root)
    {
        _bucketsRoot = Path.Combine(root, "buckets");
        _multipartRoot = Path.Combine(root, "multipart");
        _tempRoot = Path.Combine(root, "tmp");
        Directory.CreateDirectory(_bucketsRoot);
        Directory.CreateDirectory(_multipartRoot);
        if (Directory.Exists(_tempRoot))
        {
            Directory.Delete(_tempRoot, recursive: true); // leftovers of writes cut off by a crash
        }

        Directory.CreateDirectory(_tempRoot);
        LoadIndex();
    }

    private void LoadIndex()
    {
        foreach (var bucketDir in Directory.EnumerateDirectories(_bucketsRoot))
        {
            var objects = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
            foreach (var metaFile in Directory.EnumerateFiles(bucketDir, "*.json"))
            {
                var stored = JsonSerializer.Deserialize<StoredObject>(File.ReadAllText(metaFile), Json);
                if (stored is not null && File.Exists(Path.ChangeExtension(metaFile, ".data")))
                {
                    objects[stored.Key] = stored;
                }
            }

            _buckets[Path.GetFileName(bucketDir)] = objects;
        }
    }

    public IReadOnlyList<(string Name, DateTimeOffset Created)> ListBuckets()
    {
        lock (_gate)
        {
            return _buckets.Keys.Order(StringComparer.Ordinal)
                .Select(name => (name, (DateTimeOffset)Directory.GetCreationTimeUtc(BucketPath(name))))
                .ToList();
        }
    }

    public bool BucketExists(string bucket)
    {
        lock (_gate)
        {
            return _buckets.ContainsKey(bucket);
        }
    }

    public void CreateBucket(string bucket)
    {
        ValidateBucketName(bucket);
        lock (_gate)
        {
            if (_buckets.ContainsKey(bucket))
            {
                throw new S3Exception(409, "BucketAlreadyOwnedByYou", $"The bucket '{bucket}' already exists and is yours.");
            }

            Directory.CreateDirectory(BucketPath(bucket));
            _buckets[bucket] = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
        }
    }

    public void DeleteBucket(string bucket)
    {
        lock (_gate)
        {
            if (Objects(bucket).Count > 0)
            {
                throw new S3Exception(409, "BucketNotEmpty", $"The bucket '{bucket}' is not empty.");
            }

            Directory.Delete(BucketPath(bucket), recursive: true);
            _buckets.Remove(bucket);
        }
    }

    public StoredObject GetObject(string bucket, string key)
    {
        lock (_gate)
        {
            return Objects(bucket).TryGetValue(key, out var stored) ? stored : throw S3Exception.NoSuchKey(key);
        }
    }

    public FileStream OpenObjectData(string bucket, string key) =>
        new(DataPath(bucket, key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, useAsync: true);

    /// <summary>Streams <paramref name="body"/> to a temporary file, then replaces the object in one move.</summary>
    public async Task<StoredObject> PutObjectAsync(
        string bucket, string key, Stream body, string contentType, IReadOnlyDictionary<string, string> metadata,
        CancellationToken cancellationToken)
    {
        ValidateKey(key);
        EnsureBucket(bucket);
        var (tempFile, size, md5) = await WriteTempAsync(body, cancellationToken);
        var stored = new StoredObject(key, size, Quote(Convert.ToHexStringLower(md5)), contentType, Now(), metadata);
        Commit(bucket, stored, tempFile);
        return stored;
    }

    public void DeleteObject(string bucket, string key)
    {
        lock (_gate)
        {
            if (Objects(bucket).Remove(key))
            {
                File.Delete(MetaPath(bucket, key));
                File.Delete(DataPath(bucket, key));
            }
        }
    }

    /// <summary>Keys in S3 order after <paramref name="startAfter"/>; a snapshot so callers may page without holding the lock.</summary>
    public IReadOnlyList<StoredObject> ListObjects(string bucket, string prefix, string? startAfter)
    {
        lock (_gate)
        {
            return Objects(bucket).Values
                .Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal)
                            && (startAfter is null || string.CompareOrdinal(o.Key, startAfter) > 0))
                .ToList();
        }
    }

    public MultipartUpload CreateMultipartUpload(
        string bucket, string key, string contentType, IReadOnlyDictionary<string, string> metadata)
    {
        ValidateKey(key);
        EnsureBucket(bucket);
        var upload = new MultipartUpload(
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), bucket, key, contentType, Now(), metadata);
        var dir = Directory.CreateDirectory(Path.Combine(_multipartRoot, upload.UploadId));
        File.WriteAllText(Path.Combine(dir.FullName, "upload.json"), JsonSerializer.Serialize(upload, Json));
        return upload;
    }

    public MultipartUpload GetMultipartUpload(string bucket, string key, string uploadId)
    {
        var upload = ReadUpload(uploadId);
        return upload is not null && upload.Bucket == bucket && upload.Key == key
            ? upload
            : throw S3Exception.NoSuchUpload(uploadId);
    }

    public IReadOnlyList<MultipartUpload> ListMultipartUploads(string bucket, string prefix)
    {
        EnsureBucket(bucket);
        return Directory.EnumerateDirectories(_multipartRoot)
            .Select(dir => ReadUpload(Path.GetFileName(dir)))
            .OfType<MultipartUpload>()
            .Where(u => u.Bucket == bucket && u.Key.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(u => u.Key, StringComparer.Ordinal).ThenBy(u => u.Initiated)
            .ToList();
    }

    public async Task<UploadedPart> UploadPartAsync(
        string bucket, string key, string uploadId, int partNumber, Stream body, CancellationToken cancellationToken)
    {
        if (partNumber is < 1 or > 10_000)
        {
            throw S3Exception.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive.");
        }

        GetMultipartUpload(bucket, key, uploadId);
        var (tempFile, size, md5) = await WriteTempAsync(body, cancellationToken);
        var part = new UploadedPart(partNumber, size, Quote(Convert.ToHexStringLower(md5)), Now());
        var partPath = PartPath(uploadId, partNumber);
        File.Move(tempFile, partPath + ".data", overwrite: true);
        File.WriteAllText(partPath + ".json", JsonSerializer.Serialize(part, Json));
        return part;
    }

    public IReadOnlyList<UploadedPart> ListParts(string bucket, string key, string uploadId)
    {
        GetMultipartUpload(bucket, key, uploadId);
        return Directory.EnumerateFiles(Path.Combine(_multipartRoot, uploadId), "part-*.json")
            .Select(file => JsonSerializer.Deserialize<UploadedPart>(File.ReadAllText(file), Json)!)
            .OrderBy(p => p.PartNumber)
            .ToList();
    }

    public async Task<StoredObject> CompleteMultipartUploadAsync(
        string bucket, string key, string uploadId, IReadOnlyList<CompletedPart> requested, CancellationToken cancellationToken)
    {
        var upload = GetMultipartUpload(bucket, key, uploadId);
        if (requested.Count == 0)
        {
            throw S3Exception.MalformedXml("You must specify at least one part.");
        }

        var uploaded = ListParts(bucket, key, uploadId).ToDictionary(p => p.PartNumber);
        var parts = new List<UploadedPart>(requested.Count);
        foreach (var wanted in requested)
        {
            if (parts.Count > 0 && wanted.PartNumber <= parts[^1].PartNumber)
            {
                throw new S3Exception(400, "InvalidPartOrder", "The list of parts was not in ascending order.");
            }

            if (!uploaded.TryGetValue(wanted.PartNumber, out var part) || Unquote(part.ETag) != Unquote(wanted.ETag))
            {
                throw new S3Exception(400, "InvalidPart",
                    $"Part {wanted.PartNumber} was not uploaded, or its ETag does not match.");
            }

            parts.Add(part);
        }

        if (parts.SkipLast(1).FirstOrDefault(p => p.Size < MinimumPartSize) is { } small)
        {
            throw new S3Exception(400, "EntityTooSmall",
                $"Part {small.PartNumber} is {small.Size} bytes; every part but the last must be at least {MinimumPartSize} bytes.");
        }

        var tempFile = NewTempPath();
        long size = 0;
        var etagHash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        await using (var output = CreateWriteStream(tempFile))
        {
            foreach (var part in parts)
            {
                await using var input = File.OpenRead(PartPath(uploadId, part.PartNumber) + ".data");
                await input.CopyToAsync(output, cancellationToken);
                size += part.Size;
                etagHash.AppendData(Convert.FromHexString(Unquote(part.ETag)));
            }
        }

        var etag = Quote($"{Convert.ToHexStringLower(etagHash.GetHashAndReset())}-{parts.Count}");
        var stored = new StoredObject(key, size, etag, upload.ContentType, Now(), upload.Metadata);
        Commit(bucket, stored, tempFile);
        Directory.Delete(Path.Combine(_multipartRoot, uploadId), recursive: true);
        return stored;
    }

    public void AbortMultipartUpload(string bucket, string key, string uploadId)
    {
        GetMultipartUpload(bucket, key, uploadId);
        Directory.Delete(Path.Combine(_multipartRoot, uploadId), recursive: true);
    }

    private void Commit(string bucket, StoredObject stored, string tempFile)
    {
        lock (_gate)
        {
            // The bucket may have been deleted while the body streamed in.
            var objects = Objects(bucket);
            File.Move(tempFile, DataPath(bucket, stored.Key), overwrite: true);
            File.WriteAllText(MetaPath(bucket, stored.Key), JsonSerializer.Serialize(stored, Json));
            objects[stored.Key] = stored;
        }
    }

    private async Task<(string TempFile, long Size, byte[] Md5)> WriteTempAsync(Stream body, CancellationToken cancellationToken)
    {
        var tempFile = NewTempPath();
        try
        {
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            long size = 0;
            await using (var output = CreateWriteStream(tempFile))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    md5.AppendData(buffer, 0, read);
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    size += read;
                }
            }

            return (tempFile, size, md5.GetHashAndReset());
        }
        catch
        {
            File.Delete(tempFile); // a refused or broken body leaves nothing behind
            throw;
        }
    }

    private static FileStream CreateWriteStream(string path) =>
        new(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);

    private SortedDictionary<string, StoredObject> Objects(string bucket) =>
        _buckets.TryGetValue(bucket, out var objects) ? objects : throw S3Exception.NoSuchBucket(bucket);

    private void EnsureBucket(string bucket)
    {
        lock (_gate)
        {
            Objects(bucket);
        }
    }

    private MultipartUpload? ReadUpload(string uploadId)
    {
        if (uploadId.Length != 32 || !uploadId.All(char.IsAsciiHexDigitLower))
        {
            return null;
        }

        var file = Path.Combine(_multipartRoot, uploadId, "upload.json");
        return File.Exists(file) ? JsonSerializer.Deserialize<MultipartUpload>(File.ReadAllText(file), Json) : null;
    }

    private string BucketPath(string bucket) => Path.Combine(_bucketsRoot, bucket);

    private string ObjectPathStem(string bucket, string key) =>
        Path.Combine(BucketPath(bucket), Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));

    private string DataPath(string bucket, string key) => ObjectPathStem(bucket, key) + ".data";

    private string MetaPath(string bucket, string key) => ObjectPathStem(bucket, key) + ".json";

    private string PartPath(string uploadId, int partNumber) =>
        Path.Combine(_multipartRoot, uploadId, $"part-{partNumber:D5}");

    private string NewTempPath() => Path.Combine(_tempRoot, Guid.NewGuid().ToString("N"));

    private static DateTimeOffset Now()
    {
        var now = DateTimeOffset.UtcNow;
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond)); // S3 reports milliseconds
    }

    public static string Quote(string etag) => $"\"{etag}\"";

    public static string Unquote(string etag) => etag.Trim().Trim('"');

    private static void ValidateKey(string key)
    {
        if (key.Length == 0 || Encoding.UTF8.GetByteCount(key) > 1024)
        {
            throw new S3Exception(400, "KeyTooLongError", "Object keys must be 1 to 1024 bytes of UTF-8.");
        }
    }

    private static void ValidateBucketName(string bucket)
    {
        var valid = bucket.Length is >= 3 and <= 63
                    && bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')
                    && char.IsAsciiLetterOrDigit(bucket[0]) && char.IsAsciiLetterOrDigit(bucket[^1])
                    && !bucket.Contains("..", StringComparison.Ordinal);
        if (!valid)
        {
            throw new S3Exception(400, "InvalidBucketName", $"The bucket name '{bucket}' is not valid.");
        }
    }
}
