namespace Heimdex.Shared.Uploads;

public enum UploadState
{
    Receiving,
    Completed,
}

/// <summary>
/// A resumable (tus) upload, backed by an S3 multipart upload of the video's final object. The offset is what is
/// durably stored: the completed parts plus a tail object holding the bytes of a part not yet full.
/// </summary>
public sealed class Upload
{
    /// <summary>Also the id of the video it becomes, so the multipart upload targets the video's final key.</summary>
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid OwnerId { get; init; }

    public long Length { get; init; }

    public long Offset { get; set; }

    public required string FileName { get; init; }

    public string? Title { get; init; }

    public string? Description { get; init; }

    /// <summary>The Upload-Metadata header as the client sent it, echoed back on HEAD.</summary>
    public string? RawMetadata { get; init; }

    /// <summary>Started once the first bytes show a supported container.</summary>
    public string? MultipartUploadId { get; set; }

    public List<UploadedPart> Parts { get; init; } = [];

    public long TailLength { get; set; }

    public string? ContentType { get; set; }

    public UploadState State { get; set; } = UploadState.Receiving;

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public DateTimeOffset ExpiresAt { get; set; }

    public Guid? VideoId { get; set; }

    /// <summary>
    /// The request writing to the upload, while <see cref="WriterUntil"/> lies ahead: a lease the writer renews, so
    /// no database connection is held while a client sends its bytes, and a writer that dies frees the upload.
    /// </summary>
    public Guid? WriterId { get; set; }

    public DateTimeOffset? WriterUntil { get; set; }
}

public sealed class UploadedPart
{
    public int Number { get; init; }

    public required string ETag { get; init; }

    public long Size { get; init; }
}
