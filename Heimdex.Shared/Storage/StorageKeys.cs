namespace Heimdex.Shared.Storage;

/// <summary>
/// The storage layout, in one place. Keys are built from ids alone: nothing a user typed (a file name, a title)
/// ever becomes part of a key.
/// </summary>
public static class StorageKeys
{
    /// <summary>Everything stored for a video starts with this, so deleting the video deletes the prefix.</summary>
    public static string VideoPrefix(Guid videoId) => $"videos/{videoId:N}/";

    public static string VideoOriginal(Guid videoId) => VideoPrefix(videoId) + "original";

    /// <summary>The bytes of a resumable upload that do not yet fill a multipart part.</summary>
    public static string UploadTail(Guid uploadId) => $"uploads/{uploadId:N}/tail";
}
