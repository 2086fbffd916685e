using System.Net.Http.Headers;

namespace Heimdex.Conventions;

/// <summary>HTTP <c>Range</c> as both of Heimdex's byte servers answer it: the video stream and the development S3 server.</summary>
public static class ByteRanges
{
    /// <summary>
    /// A single <c>bytes=</c> range (first-last, first-, or -suffix) resolved against <paramref name="size"/>.
    /// Null when there is no range or one that cannot be parsed (serve the whole object, as S3 does); a length of
    /// zero or less when the range lies outside the object (416).
    /// </summary>
    public static (long Offset, long Length)? Resolve(string? header, long size)
    {
        if (!RangeHeaderValue.TryParse(header, out var range) || range.Unit != "bytes" || range.Ranges.Count != 1)
        {
            return null;
        }

        var (from, to) = (range.Ranges.Single().From, range.Ranges.Single().To);
        if (from is null)
        {
            var suffix = Math.Min(to ?? 0, size);
            return (size - suffix, suffix);
        }

        return from >= size ? (from.Value, 0) : (from.Value, Math.Min(to ?? size - 1, size - 1) - from.Value + 1);
    }
}
