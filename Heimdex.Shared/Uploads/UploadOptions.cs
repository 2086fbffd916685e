using System.ComponentModel.DataAnnotations;
using Heimdex.Shared.Data;
using Heimdex.Shared.Storage;
using Microsoft.EntityFrameworkCore;

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

    /// <summary>
    /// How old stored bytes no row owns (an object, a multipart upload) must be before a sweep removes them: longer
    /// than any upload takes between storing its bytes and saving its row.
    /// </summary>
    public TimeSpan OrphanAfter { get; set; } = TimeSpan.FromHours(24);
}

public static class UploadStorage
{
    /// <summary>
    /// Removes an upload's row and, when it was still receiving, its storage (multipart upload and tail). The row goes
    /// first, and only while still receiving: a request completing the upload at the same moment then fails to save and
    /// removes what it stored itself, and a completed upload keeps its video's original.
    /// </summary>
    public static async Task DiscardAsync(Upload upload, HeimdexDbContext db, ObjectStore store, CancellationToken cancellationToken)
    {
        var receiving = await db.Uploads.Where(u => u.Id == upload.Id && u.State == UploadState.Receiving).ExecuteDeleteAsync(cancellationToken);
        if (receiving == 0)
        {
            await db.Uploads.Where(u => u.Id == upload.Id).ExecuteDeleteAsync(cancellationToken);
            return;
        }

        await FreeAsync(upload, store, cancellationToken);
    }

    /// <summary>Frees what a receiving upload holds in storage: its multipart upload, if started, and its tail.</summary>
    public static async Task FreeAsync(Upload upload, ObjectStore store, CancellationToken cancellationToken)
    {
        if (upload.MultipartUploadId is { } multipartId)
        {
            await store.AbortMultipartUploadAsync(StorageKeys.VideoOriginal(upload.Id), multipartId, cancellationToken);
        }

        await store.DeleteAsync(StorageKeys.UploadTail(upload.Id), cancellationToken);
    }
}
