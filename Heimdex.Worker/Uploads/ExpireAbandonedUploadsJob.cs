using Amazon.S3.Model;
using Heimdex.Shared.Data;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Uploads;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Heimdex.Worker.Uploads;

/// <summary>
/// Recurring: frees resumable uploads nobody finished before they expired, and storage that no upload owns any more
/// (multipart uploads and tails left by an API that stopped mid-request), so an abandoned upload leaves nothing.
/// </summary>
public sealed class ExpireAbandonedUploadsJob(
    HeimdexDbContext db, ObjectStore store, IOptions<UploadOptions> options, TimeProvider time, ILogger<ExpireAbandonedUploadsJob> logger)
{
    public const string RecurringJobId = "expire-abandoned-uploads";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expired = await db.Uploads
            .Where(u => u.State == UploadState.Receiving && u.ExpiresAt < now && (u.WriterUntil == null || u.WriterUntil < now))
            .ToListAsync(cancellationToken);
        foreach (var upload in expired)
        {
            await UploadStorage.DiscardAsync(upload, db, store, cancellationToken);
            logger.LogInformation("Expired upload {UploadId} at {Offset} of {Length} bytes", upload.Id, upload.Offset, upload.Length);
        }

        var cutoff = now - options.Value.OrphanAfter;
        var receiving = await db.Uploads.Where(u => u.State == UploadState.Receiving)
            .Select(u => new { u.Id, u.MultipartUploadId }).ToListAsync(cancellationToken);
        var liveMultipart = receiving.Select(u => u.MultipartUploadId).OfType<string>().ToHashSet();
        var liveTails = receiving.Select(u => StorageKeys.UploadTail(u.Id)).ToHashSet();

        var multipart = await store.S3.ListMultipartUploadsAsync(
            new ListMultipartUploadsRequest { BucketName = store.Bucket, Prefix = "videos/" }, cancellationToken);
        foreach (var orphan in (multipart.MultipartUploads ?? []).Where(m => !liveMultipart.Contains(m.UploadId) && m.Initiated < cutoff.UtcDateTime))
        {
            await store.AbortMultipartUploadAsync(orphan.Key, orphan.UploadId, cancellationToken);
            logger.LogInformation("Aborted orphaned multipart upload of {Key}", orphan.Key);
        }

        await store.DeleteOrphansAsync("uploads/", cutoff.UtcDateTime, (tails, _) => Task.FromResult(tails.Where(tail => !liveTails.Contains(tail))), cancellationToken);
    }
}
