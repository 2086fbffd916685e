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

    /// <summary>16 kHz mono 16-bit PCM (WAV) of the video's first audio stream.</summary>
    public static string Audio(Guid videoId) => VideoPrefix(videoId) + "audio.wav";

    public static string Keyframe(Guid videoId, int sceneIndex) => VideoPrefix(videoId) + $"keyframes/{sceneIndex:D5}.jpg";

    public static string Thumbnail(Guid videoId, int sceneIndex) => VideoPrefix(videoId) + $"thumbnails/{sceneIndex:D5}.jpg";

    /// <summary>The lecture notes: one page per distinct slide with its on-screen text and what was said while it was shown.</summary>
    public static string Notes(Guid videoId) => VideoPrefix(videoId) + "notes.pdf";

    /// <summary>The slides found in a lecture (JSON), which the notes are made from.</summary>
    public static string Slides(Guid videoId) => VideoPrefix(videoId) + "slides/slides.json";

    /// <summary>When each distinct slide showed, as the ocr stage saw it: what the keyframes stage takes pictures of.</summary>
    public static string SlidesShown(Guid videoId) => VideoPrefix(videoId) + "slides/shown.json";

    public static string SlidePicture(Guid videoId, int number) => VideoPrefix(videoId) + $"slides/{number:D4}.jpg";

    /// <summary>Everything stored for a person (their reference photos), so deleting the person deletes the prefix.</summary>
    public static string PersonPrefix(Guid personId) => $"people/{personId:N}/";

    public static string PersonPhoto(Guid personId, Guid photoId) => PersonPrefix(personId) + $"photos/{photoId:N}";

    /// <summary>The bytes of a resumable upload that do not yet fill a multipart part.</summary>
    public static string UploadTail(Guid uploadId) => $"uploads/{uploadId:N}/tail";
}
