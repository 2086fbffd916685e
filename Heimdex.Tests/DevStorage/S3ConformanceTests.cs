using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Heimdex.DevStorage;

namespace Heimdex.Tests.DevStorage;

/// <summary>The development storage server, driven by AWSSDK.S3 exactly as the services will drive it (or MinIO, or S3).</summary>
public sealed class S3ConformanceTests(DevStorageFixture server) : IClassFixture<DevStorageFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private async Task<(IAmazonS3 S3, string Bucket)> NewBucketAsync()
    {
        var s3 = server.Client();
        var bucket = "test-" + Guid.NewGuid().ToString("N")[..12];
        await s3.PutBucketAsync(bucket, Cancellation);
        return (s3, bucket);
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadAllAsync(GetObjectResponse response)
    {
        using var buffer = new MemoryStream();
        await response.ResponseStream.CopyToAsync(buffer, Cancellation);
        return buffer.ToArray();
    }

    [Fact]
    public async Task Buckets_are_created_listed_and_a_duplicate_is_refused()
    {
        var (s3, bucket) = await NewBucketAsync();

        var buckets = await s3.ListBucketsAsync(Cancellation);
        Assert.Contains(buckets.Buckets, b => b.BucketName == bucket);
        var duplicate = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.PutBucketAsync(bucket, Cancellation));
        Assert.Equal("BucketAlreadyOwnedByYou", duplicate.ErrorCode);
        var invalid = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.PutBucketAsync("Not_A_Bucket", Cancellation));
        Assert.Equal("InvalidBucketName", invalid.ErrorCode);
    }

    [Theory]
    [InlineData(true, null)]
    [InlineData(false, null)]
    [InlineData(true, "CRC32C")]
    [InlineData(true, "SHA256")]
    [InlineData(true, "CRC64NVME")]
    public async Task Put_get_and_head_round_trip_bytes_type_and_metadata(bool chunkEncoding, string? checksum)
    {
        var (s3, bucket) = await NewBucketAsync();
        var content = RandomBytes(300_000, seed: 1);
        var put = new PutObjectRequest
        {
            BucketName = bucket,
            Key = "folder/a file with spaces+plus(1).bin",
            InputStream = new MemoryStream(content),
            ContentType = "video/mp4",
            UseChunkEncoding = chunkEncoding,
        };
        if (checksum is not null)
        {
            put.ChecksumAlgorithm = new ChecksumAlgorithm(checksum);
        }

        put.Metadata["title"] = "Leaf and deer";
        var stored = await s3.PutObjectAsync(put, Cancellation);

        Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(content))}\"", stored.ETag);
        using var got = await s3.GetObjectAsync(bucket, put.Key, Cancellation);
        Assert.Equal(content, await ReadAllAsync(got));
        Assert.Equal("video/mp4", got.Headers.ContentType);
        var head = await s3.GetObjectMetadataAsync(bucket, put.Key, Cancellation);
        Assert.Equal(content.Length, head.ContentLength);
        Assert.Equal("Leaf and deer", head.Metadata["title"]);
        Assert.Equal(stored.ETag, head.ETag);
    }

    [Fact]
    public async Task Range_gets_answer_206_with_exactly_the_requested_bytes_and_416_past_the_end()
    {
        var (s3, bucket) = await NewBucketAsync();
        var content = RandomBytes(1000, seed: 2);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "range.bin", InputStream = new MemoryStream(content) }, Cancellation);

        using var middle = await s3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = "range.bin", ByteRange = new ByteRange(10, 19) }, Cancellation);
        Assert.Equal(HttpStatusCode.PartialContent, middle.HttpStatusCode);
        Assert.Equal(content[10..20], await ReadAllAsync(middle));
        Assert.Equal("bytes 10-19/1000", middle.ContentRange);

        using var http = new HttpClient();
        var url = await PresignAsync(s3, bucket, "range.bin", HttpVerb.GET, TimeSpan.FromMinutes(5));
        using var suffix = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Range = new System.Net.Http.Headers.RangeHeaderValue(null, 5) } };
        using var suffixResponse = await http.SendAsync(suffix, Cancellation);
        Assert.Equal(HttpStatusCode.PartialContent, suffixResponse.StatusCode);
        Assert.Equal(content[^5..], await suffixResponse.Content.ReadAsByteArrayAsync(Cancellation));

        var beyond = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() =>
            s3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = "range.bin", ByteRange = new ByteRange(5000, 6000) }, Cancellation));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyond.StatusCode);
    }

    [Fact]
    public async Task ListObjectsV2_pages_in_key_order_and_groups_common_prefixes()
    {
        var (s3, bucket) = await NewBucketAsync();
        var keys = Enumerable.Range(0, 25).Select(i => $"page/key-{i:D2}").Concat(["page/sub/a", "page/sub/b", "other/x"]).ToList();
        foreach (var key in keys)
        {
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = key }, Cancellation);
        }

        var listed = new List<string>();
        var pages = 0;
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = "page/", MaxKeys = 10 };
        ListObjectsV2Response response;
        do
        {
            response = await s3.ListObjectsV2Async(request, Cancellation);
            listed.AddRange(response.S3Objects?.Select(o => o.Key) ?? []);
            request.ContinuationToken = response.NextContinuationToken;
            pages++;
        }
        while (response.IsTruncated == true);

        Assert.Equal(keys.Where(k => k.StartsWith("page/", StringComparison.Ordinal)).Order(StringComparer.Ordinal), listed);
        Assert.Equal(3, pages);

        var delimited = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = "page/", Delimiter = "/" }, Cancellation);
        Assert.Equal(25, delimited.S3Objects.Count);
        Assert.Equal(["page/sub/"], delimited.CommonPrefixes);

        var afterPrefix = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Delimiter = "/", MaxKeys = 1 }, Cancellation);
        Assert.Equal(["other/"], afterPrefix.CommonPrefixes);
        var next = await s3.ListObjectsV2Async(new ListObjectsV2Request
        {
            BucketName = bucket,
            Delimiter = "/",
            MaxKeys = 1,
            ContinuationToken = afterPrefix.NextContinuationToken,
        }, Cancellation);
        Assert.Equal(["page/"], next.CommonPrefixes);
        Assert.False(next.IsTruncated);
    }

    [Fact]
    public async Task A_20_MB_multipart_upload_stores_the_exact_bytes_with_a_multipart_etag()
    {
        var (s3, bucket) = await NewBucketAsync();
        const int partSize = 5 * 1024 * 1024;
        var content = RandomBytes(4 * partSize, seed: 3);
        var upload = await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = "big.bin", ContentType = "video/mp4" }, Cancellation);
        var etags = new List<PartETag>();
        for (var part = 1; part <= 4; part++)
        {
            etags.Add(await UploadPartAsync(s3, bucket, "big.bin", upload.UploadId, part, new MemoryStream(content, (part - 1) * partSize, partSize)));
        }

        var parts = await s3.ListPartsAsync(new ListPartsRequest { BucketName = bucket, Key = "big.bin", UploadId = upload.UploadId }, Cancellation);
        Assert.Equal([1, 2, 3, 4], parts.Parts.Select(p => p.PartNumber ?? 0));
        var completed = await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = bucket,
            Key = "big.bin",
            UploadId = upload.UploadId,
            PartETags = etags,
        }, Cancellation);

        Assert.EndsWith("-4\"", completed.ETag);
        using var got = await s3.GetObjectAsync(bucket, "big.bin", Cancellation);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(await ReadAllAsync(got)));
        Assert.Equal("video/mp4", got.Headers.ContentType);
        Assert.Empty((await s3.ListMultipartUploadsAsync(bucket, Cancellation)).MultipartUploads ?? []);
    }

    [Fact]
    public async Task Multipart_refuses_small_middle_parts_and_wrong_etags()
    {
        var (s3, bucket) = await NewBucketAsync();
        var upload = await s3.InitiateMultipartUploadAsync(bucket, "small.bin", Cancellation);
        var etags = new List<PartETag>();
        for (var part = 1; part <= 2; part++)
        {
            etags.Add(await UploadPartAsync(s3, bucket, "small.bin", upload.UploadId, part, new MemoryStream(RandomBytes(1024, part))));
        }

        var tooSmall = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = bucket,
            Key = "small.bin",
            UploadId = upload.UploadId,
            PartETags = etags,
        }, Cancellation));
        Assert.Equal("EntityTooSmall", tooSmall.ErrorCode);

        var wrongTag = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = bucket,
            Key = "small.bin",
            UploadId = upload.UploadId,
            PartETags = [new PartETag(2, "\"00000000000000000000000000000000\"")],
        }, Cancellation));
        Assert.Equal("InvalidPart", wrongTag.ErrorCode);
    }

    [Fact]
    public async Task An_aborted_multipart_upload_leaves_nothing_behind()
    {
        var (s3, bucket) = await NewBucketAsync();
        var upload = await s3.InitiateMultipartUploadAsync(bucket, "aborted.bin", Cancellation);
        await UploadPartAsync(s3, bucket, "aborted.bin", upload.UploadId, 1, new MemoryStream(RandomBytes(1024, 4)));
        Assert.Single((await s3.ListMultipartUploadsAsync(bucket, Cancellation)).MultipartUploads);

        await s3.AbortMultipartUploadAsync(bucket, "aborted.bin", upload.UploadId, Cancellation);

        Assert.Empty((await s3.ListMultipartUploadsAsync(bucket, Cancellation)).MultipartUploads ?? []);
        var gone = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() =>
            s3.ListPartsAsync(new ListPartsRequest { BucketName = bucket, Key = "aborted.bin", UploadId = upload.UploadId }, Cancellation));
        Assert.Equal("NoSuchUpload", gone.ErrorCode);
        var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectMetadataAsync(bucket, "aborted.bin", Cancellation));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(Path.Combine(server.DataDirectory, "multipart")),
            entry => entry.Contains(upload.UploadId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Presigned_get_and_put_work_until_they_expire()
    {
        var (s3, bucket) = await NewBucketAsync();
        using var http = new HttpClient();
        var content = RandomBytes(4096, seed: 5);

        var putUrl = await PresignAsync(s3, bucket, "presigned.bin", HttpVerb.PUT, TimeSpan.FromMinutes(5));
        using (var put = await http.PutAsync(putUrl, new ByteArrayContent(content), Cancellation))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var getUrl = await PresignAsync(s3, bucket, "presigned.bin", HttpVerb.GET, TimeSpan.FromMinutes(5));
        Assert.Equal(content, await http.GetByteArrayAsync(getUrl, Cancellation));

        var shortLived = await PresignAsync(s3, bucket, "presigned.bin", HttpVerb.GET, TimeSpan.FromSeconds(1));
        await Task.Delay(TimeSpan.FromSeconds(2.5), Cancellation);
        using var expired = await http.GetAsync(shortLived, Cancellation);
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
        Assert.Contains("Request has expired", await expired.Content.ReadAsStringAsync(Cancellation));

        using var tampered = await http.GetAsync(getUrl.Replace("presigned.bin", "other.bin", StringComparison.Ordinal), Cancellation);
        Assert.Equal(HttpStatusCode.Forbidden, tampered.StatusCode);
    }

    [Fact]
    public async Task Delete_and_multi_delete_remove_objects_and_a_non_empty_bucket_is_kept()
    {
        var (s3, bucket) = await NewBucketAsync();
        foreach (var key in new[] { "a", "b", "c", "d" })
        {
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = key }, Cancellation);
        }

        await s3.DeleteObjectAsync(bucket, "a", Cancellation);
        var deleted = await s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = bucket, Objects = [new() { Key = "b" }, new() { Key = "c" }] }, Cancellation);
        Assert.Equal(["b", "c"], deleted.DeletedObjects.Select(d => d.Key).Order());
        var remaining = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket }, Cancellation);
        Assert.Equal(["d"], remaining.S3Objects.Select(o => o.Key));
        var notFound = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync(bucket, "a", Cancellation));
        Assert.Equal("NoSuchKey", notFound.ErrorCode);

        var notEmpty = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.DeleteBucketAsync(bucket, Cancellation));
        Assert.Equal("BucketNotEmpty", notEmpty.ErrorCode);
        await s3.DeleteObjectAsync(bucket, "d", Cancellation);
        await s3.DeleteBucketAsync(bucket, Cancellation);
        Assert.DoesNotContain((await s3.ListBucketsAsync(Cancellation)).Buckets ?? [], b => b.BucketName == bucket);
    }

    [Fact]
    public async Task Requests_with_a_wrong_secret_an_unknown_key_or_no_signature_are_refused()
    {
        var (_, bucket) = await NewBucketAsync();

        using var wrongSecret = server.Client(secretKey: "not-the-secret");
        var forged = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() =>
            wrongSecret.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "x", ContentBody = "x" }, Cancellation));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal("SignatureDoesNotMatch", forged.ErrorCode);

        using var unknownKey = server.Client(accessKey: "someone-else");
        var unknown = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => unknownKey.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket }, Cancellation));
        Assert.Equal("InvalidAccessKeyId", unknown.ErrorCode);

        using var http = new HttpClient();
        using var anonymous = await http.GetAsync(new Uri(server.Endpoint, $"/{bucket}?list-type=2"), Cancellation);
        Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        Assert.Empty((await server.Client().ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket }, Cancellation)).S3Objects ?? []);
    }

    [Fact]
    public async Task Objects_and_unfinished_multipart_uploads_survive_a_server_restart()
    {
        var (s3, bucket) = await NewBucketAsync();
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "kept.txt", ContentBody = "kept" }, Cancellation);
        var upload = await s3.InitiateMultipartUploadAsync(bucket, "resumable.bin", Cancellation);
        await UploadPartAsync(s3, bucket, "resumable.bin", upload.UploadId, 1, new MemoryStream(RandomBytes(2048, 6)));

        var restarted = new FileObjectStore(server.DataDirectory);

        Assert.Equal(4, restarted.GetObject(bucket, "kept.txt").Size);
        Assert.Equal(2048, Assert.Single(restarted.ListParts(bucket, "resumable.bin", upload.UploadId)).Size);
    }

    private static async Task<PartETag> UploadPartAsync(IAmazonS3 s3, string bucket, string key, string uploadId, int partNumber, Stream content)
    {
        var uploaded = await s3.UploadPartAsync(new UploadPartRequest
        {
            BucketName = bucket,
            Key = key,
            UploadId = uploadId,
            PartNumber = partNumber,
            InputStream = content,
        }, Cancellation);
        return new PartETag(partNumber, uploaded.ETag);
    }

    private static Task<string> PresignAsync(IAmazonS3 s3, string bucket, string key, HttpVerb verb, TimeSpan lifetime) =>
        s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = bucket,
            Key = key,
            Verb = verb,
            Expires = DateTime.UtcNow + lifetime,
            Protocol = Protocol.HTTP,
        });
}
