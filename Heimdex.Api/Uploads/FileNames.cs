using System.Globalization;
using System.Text;

namespace Heimdex.Api.Uploads;

public static class FileNames
{
    private const int MaxBytes = 255;

    /// <summary>
    /// A name safe to show and store: the last path segment only, no control characters, no <c>..</c>, at most 255
    /// UTF-8 bytes. It is never used to build a storage key.
    /// </summary>
    public static string Sanitize(string? name, string fallback = "video")
    {
        var lastSegment = (name ?? "").Replace('\\', '/').Split('/').LastOrDefault() ?? "";
        var cleaned = new string(lastSegment.Where(c => !char.IsControl(c)).ToArray()).Replace("..", ".", StringComparison.Ordinal).Trim().Trim('.');
        if (cleaned.Length == 0)
        {
            return fallback;
        }

        // Cut whole characters (a surrogate pair, an accent with its letter), never half of one.
        var length = 0;
        var bytes = 0;
        var elements = StringInfo.GetTextElementEnumerator(cleaned);
        while (elements.MoveNext() && (bytes += Encoding.UTF8.GetByteCount(elements.GetTextElement())) <= MaxBytes)
        {
            length += elements.GetTextElement().Length;
        }

        return cleaned[..length];
    }
}
