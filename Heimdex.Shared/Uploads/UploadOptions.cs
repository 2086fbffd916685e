using System.ComponentModel.DataAnnotations;
using Heimdex.Shared.Data;
using Heimdex.Shared.Storage;

namespace Heimdex.Shared.Uploads;

/// <summary>Configuration section <c>Uploads</c>.</summary>
public sealed class UploadOptions
{
    public const string Section = "Uploads";

    /// <summary>The largest video accepted, in bytes (default 20 GiB).</summary>
    [Range(1, long.MaxValue)]
    public long MaxBytes { get; set; } = 20L * 1024 * 1024 * 1024;

    /// <summary>Bytes buffered per multipart part: the most memory one upload holds (S3 needs at least 5 MiB).</summary>
    [Range(5 * 1024 * 1024, 512 * 1024 * 1024)]
    public int PartSizeBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>How long a resumable upload may sit idle before it is expired and its storage freed.</summary>
    public TimeSpan ResumableExpiry { get; set; } = TimeSpan.FromHours(24);
}

public static class UploadStorage
{
    /// <summary>Frees a receiving upload's storage (multipart upload and tail) and its row; a completed one only loses its row.</summary>
    public static async Task DiscardAsync(Upload upload, HeimdexDbContext db, ObjectStore store, CancellationToken cancellationToken)
    {
        if (upload.State == UploadState.Receiving)
        {
            if (upload.MultipartUploadId is { } multipartId)
            {
                await store.AbortMultipartUploadAsync(StorageKeys.VideoOriginal(upload.Id), multipartId, cancellationToken);
            }

            await store.DeleteAsync(StorageKeys.UploadTail(upload.Id), cancellationToken);
        }

        db.Uploads.Remove(upload);
        await db.SaveChangesAsync(cancellationToken);
    }
}
