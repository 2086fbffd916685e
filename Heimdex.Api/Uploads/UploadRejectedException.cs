using Heimdex.Shared.Uploads;

namespace Heimdex.Api.Uploads;

/// <summary>An upload refused for a reason the client can fix; becomes an RFC 9457 problem response.</summary>
public sealed class UploadRejectedException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;

    public static UploadRejectedException Empty() => new(400, "Empty file", "The uploaded file has no bytes.");

    public static UploadRejectedException TooLarge(long limit) =>
        new(413, "File too large", $"The file is larger than the limit of {limit} bytes.");

    public static UploadRejectedException Unsupported() =>
        new(415, "Unsupported container", $"The file's content is not a supported video container. Supported: {MediaSniffer.SupportedContainers}.");
}
