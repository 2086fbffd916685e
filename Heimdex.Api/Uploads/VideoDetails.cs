using System.Text;
using Heimdex.Shared.Videos;

namespace Heimdex.Api.Uploads;

/// <summary>
/// A video's title and description as both upload paths take them: checked as they arrive, before any of the file is
/// stored where possible, so a value the database would refuse never turns into a 500 and an object nobody owns.
/// </summary>
public sealed record VideoDetails(string Title, string? Description)
{
    public const int MaxDescriptionBytes = 16 * 1024;

    /// <summary>Checks one field; throws a 400 the client can act on. Tabs and line breaks are text, other control characters are not.</summary>
    public static string? Check(string field, string? value)
    {
        var (limit, count) = field == "title" ? (Video.MaxTitleLength, value?.Trim().Length ?? 0) : (MaxDescriptionBytes, Encoding.UTF8.GetByteCount(value ?? ""));
        if (count > limit)
        {
            throw new UploadRejectedException(400, $"The {field} is too long",
                $"The {field} may be at most {limit} {(field == "title" ? "characters" : "bytes")}; this one has {count}.");
        }

        if (value?.Where(c => char.IsControl(c) && c is not ('\t' or '\r' or '\n')).Select(c => (char?)c).FirstOrDefault() is { } control)
        {
            throw new UploadRejectedException(400, $"The {field} has a control character",
                $"The {field} contains the control character U+{(int)control:X4}; remove it.");
        }

        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    /// <summary>The checked details; without a title, the file's name (without its extension) is the title.</summary>
    public static VideoDetails From(string? title, string? description, string fileName) =>
        new(Check("title", title) ?? Path.GetFileNameWithoutExtension(fileName), Check("description", description));

    public Video NewVideo(Guid id, Guid ownerId, string fileName, long sizeBytes, string contentType, string? sha256) => new()
    {
        Id = id,
        OwnerId = ownerId,
        Title = Title,
        Description = Description,
        OriginalFileName = fileName,
        SizeBytes = sizeBytes,
        ContentType = contentType,
        Sha256 = sha256,
    };
}
