using System.Buffers;
using System.Security.Cryptography;
using Amazon.S3.Model;
using Heimdex.Shared.Uploads;
using Heimdex.Shared.Storage;
using Microsoft.Extensions.Options;

namespace Heimdex.Api.Uploads;

public sealed record StoredOriginal(long SizeBytes, string ContentType, string Sha256);

/// <summary>
/// A video's original as an S3 multipart upload, for both upload paths: a form upload streams its body through
/// <see cref="StoreAsync"/>, a resumable upload starts, adds parts and completes over several requests. One part is
/// buffered at a time, never the whole file in memory or on the API's disk.
/// </summary>
public sealed class OriginalStore(ObjectStore store, IOptions<UploadOptions> options)
{
    public async Task<StoredOriginal> StoreAsync(Guid videoId, Stream body, CancellationToken cancellationToken)
    {
        var partSize = options.Value.PartSizeBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(partSize);
        try
        {
            var filled = await FillAsync(body, buffer, partSize, cancellationToken);
            if (filled == 0)
            {
                throw UploadRejectedException.Empty();
            }

            var contentType = MediaSniffer.ContainerType(buffer.AsSpan(0, filled)) ?? throw UploadRejectedException.Unsupported();
            var multipartId = await StartAsync(videoId, contentType, cancellationToken);
            try
            {
                using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var parts = new List<PartETag>();
                long size = 0;
                while (filled > 0)
                {
                    size += filled;
                    if (size > options.Value.MaxBytes)
                    {
                        throw UploadRejectedException.TooLarge(options.Value.MaxBytes);
                    }

                    sha256.AppendData(buffer, 0, filled);
                    parts.Add(await UploadPartAsync(videoId, multipartId, parts.Count + 1, buffer, filled, cancellationToken));
                    filled = await FillAsync(body, buffer, partSize, cancellationToken);
                }

                await CompleteAsync(videoId, multipartId, parts, cancellationToken);
                return new StoredOriginal(size, contentType, Convert.ToHexStringLower(sha256.GetHashAndReset()));
            }
            catch
            {
                await store.AbortMultipartUploadAsync(StorageKeys.VideoOriginal(videoId), multipartId, CancellationToken.None);
                throw;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Starts the multipart upload of a video's original; returns its id.</summary>
    public async Task<string> StartAsync(Guid videoId, string contentType, CancellationToken cancellationToken) =>
        (await store.S3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
        {
            BucketName = store.Bucket,
            Key = StorageKeys.VideoOriginal(videoId),
            ContentType = contentType,
        }, cancellationToken)).UploadId;

    public async Task<PartETag> UploadPartAsync(Guid videoId, string multipartId, int partNumber, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        var part = await store.S3.UploadPartAsync(new UploadPartRequest
        {
            BucketName = store.Bucket,
            Key = StorageKeys.VideoOriginal(videoId),
            UploadId = multipartId,
            PartNumber = partNumber,
            InputStream = new MemoryStream(buffer, 0, count, writable: false),
        }, cancellationToken);
        return new PartETag(partNumber, part.ETag);
    }

    /// <summary>Joins the parts into the original: the object exists from here on.</summary>
    public async Task CompleteAsync(Guid videoId, string multipartId, List<PartETag> parts, CancellationToken cancellationToken) =>
        await store.S3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = store.Bucket,
            Key = StorageKeys.VideoOriginal(videoId),
            UploadId = multipartId,
            PartETags = parts,
        }, cancellationToken);

    /// <summary>Reads until <paramref name="count"/> bytes or the end of the stream; returns how many were read.</summary>
    public static async Task<int> FillAsync(Stream body, byte[] buffer, int count, CancellationToken cancellationToken, int offset = 0)
    {
        var filled = offset;
        int read;
        while (filled < count && (read = await body.ReadAsync(buffer.AsMemory(filled, count - filled), cancellationToken)) > 0)
        {
            filled += read;
        }

        return filled - offset;
    }
}
