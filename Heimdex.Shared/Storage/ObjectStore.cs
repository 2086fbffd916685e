using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;

namespace Heimdex.Shared.Storage;

/// <summary>The storage operations Heimdex composes from S3 calls, against the configured bucket.</summary>
public sealed class ObjectStore(IAmazonS3 s3, StorageConnection connection)
{
    public IAmazonS3 S3 => s3;

    public string Bucket => connection.Bucket;

    /// <summary>Every object under <paramref name="prefix"/> in key order, a page at a time.</summary>
    public async IAsyncEnumerable<S3Object> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix };
        ListObjectsV2Response page;
        do
        {
            page = await s3.ListObjectsV2Async(request, cancellationToken);
            foreach (var item in page.S3Objects ?? [])
            {
                yield return item;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
    }

    /// <summary>The most keys S3 deletes in one request.</summary>
    private const int DeleteBatch = 1000;

    /// <summary>Deletes the objects named, up to <see cref="DeleteBatch"/>.</summary>
    public async Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count > 0)
        {
            await s3.DeleteObjectsAsync(new DeleteObjectsRequest
            {
                BucketName = Bucket,
                Objects = keys.Select(key => new KeyVersion { Key = key }).ToList(),
            }, cancellationToken);
        }
    }

    /// <summary>Deletes every object under <paramref name="prefix"/>, a thousand at a time.</summary>
    public async Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        // Deleting keys already listed does not disturb the listing: it continues after the last key it returned.
        await foreach (var batch in ListAsync(prefix, cancellationToken).Chunk(DeleteBatch).WithCancellation(cancellationToken))
        {
            await DeleteAsync(batch.Select(o => o.Key).ToList(), cancellationToken);
        }
    }

    /// <summary>
    /// Deletes, a thousand at a time, the objects under <paramref name="prefix"/> last changed before
    /// <paramref name="cutoff"/> (UTC) that <paramref name="unowned"/> picks from each page of their keys; returns how
    /// many went. The age keeps bytes whose owner is about to be saved from being taken for orphans.
    /// </summary>
    public async Task<int> DeleteOrphansAsync(
        string prefix, DateTime cutoff, Func<IReadOnlyList<string>, CancellationToken, Task<IEnumerable<string>>> unowned, CancellationToken cancellationToken)
    {
        var deleted = 0;
        await foreach (var page in ListAsync(prefix, cancellationToken).Chunk(DeleteBatch).WithCancellation(cancellationToken))
        {
            var old = page.Where(o => o.LastModified?.ToUniversalTime() < cutoff).Select(o => o.Key).ToList();
            var orphans = old.Count == 0 ? [] : (await unowned(old, cancellationToken)).ToList();
            await DeleteAsync(orphans, cancellationToken);
            deleted += orphans.Count;
        }

        return deleted;
    }

    /// <summary>Aborts a multipart upload; one that is already gone is fine.</summary>
    public async Task AbortMultipartUploadAsync(string key, string uploadId, CancellationToken cancellationToken)
    {
        try
        {
            await s3.AbortMultipartUploadAsync(Bucket, key, uploadId, cancellationToken);
        }
        catch (AmazonS3Exception error) when (error.ErrorCode == "NoSuchUpload")
        {
        }
    }

    /// <summary>A URL that reads the object without credentials until it expires; ffmpeg streams media from it with range requests.</summary>
    public Task<string> PresignGetAsync(string key, TimeSpan lifetime) => s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
    {
        BucketName = Bucket,
        Key = key,
        Verb = HttpVerb.GET,
        Expires = DateTime.UtcNow + lifetime,
        Protocol = connection.Endpoint.Scheme == "https" ? Protocol.HTTPS : Protocol.HTTP,
    });

    public async Task UploadFileAsync(string key, string path, string contentType, CancellationToken cancellationToken) =>
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, FilePath = path, ContentType = contentType }, cancellationToken);

    /// <summary>Streams an object to a local file (a stage's input: the audio track, a keyframe).</summary>
    public async Task DownloadFileAsync(string key, string path, CancellationToken cancellationToken)
    {
        using var response = await s3.GetObjectAsync(Bucket, key, cancellationToken);
        await using var file = File.Create(path);
        await response.ResponseStream.CopyToAsync(file, cancellationToken);
    }

    /// <summary>Stores a small document as JSON: what one stage leaves for a later one.</summary>
    public async Task PutJsonAsync<T>(string key, T document, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(document));
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = body, ContentType = "application/json" }, cancellationToken);
    }

    /// <summary>A document stored by <see cref="PutJsonAsync"/>; null when there is none.</summary>
    public async Task<T?> GetJsonAsync<T>(string key, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await s3.GetObjectAsync(Bucket, key, cancellationToken);
            return await JsonSerializer.DeserializeAsync<T>(response.ResponseStream, cancellationToken: cancellationToken);
        }
        catch (AmazonS3Exception error) when (error.StatusCode == HttpStatusCode.NotFound)
        {
            return default;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await s3.DeleteObjectAsync(Bucket, key, cancellationToken);
}
