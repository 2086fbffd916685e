using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Heimdex.Search;

/// <summary>
/// A page's position in one ranking: an offset, bound to the query and filters it was issued for (a hash of them),
/// so a cursor passed back with other filters is refused rather than paging a different ranking.
/// </summary>
public static class SearchCursor
{
    public static string Write(SceneQuery query, int offset) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{offset}:{RankingTag(query)}"));

    /// <summary>The offset <paramref name="query"/>'s cursor holds (0 without one); false when it is not a cursor of this query and filters.</summary>
    public static bool TryRead(SceneQuery query, out int offset)
    {
        offset = 0;
        if (query.Cursor is null)
        {
            return true;
        }

        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(query.Cursor)).Split(':');
            return parts.Length == 2 && parts[1] == RankingTag(query) && int.TryParse(parts[0], CultureInfo.InvariantCulture, out offset) && offset >= 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static string RankingTag(SceneQuery query)
    {
        static string? Instant(DateTimeOffset? time) => time?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        var ranking = string.Join('\n', query.Text, query.VideoId, query.PersonId, Instant(query.From), Instant(query.To));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ranking)))[..16];
    }
}
