using System.Text;

namespace Heimdex.Search;

/// <summary>
/// A hit's snippet as HTML whose only elements are <c>&lt;mark&gt;</c> around the matched words: Postgres marks them
/// with characters no text contains, everything else is escaped, then the marks become elements. So a transcript or
/// title that contains markup is shown as text by anyone who renders the snippet as HTML.
/// </summary>
public static class Snippets
{
    /// <summary>Private-use characters (U+E000, U+E001) that <c>ts_headline</c> puts around each match.</summary>
    public const string StartSelector = "\uE000";
    public const string StopSelector = "\uE001";

    public static string Html(string headline)
    {
        var html = new StringBuilder(headline.Length + 16);
        foreach (var character in headline)
        {
            html.Append(character switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                '\uE000' => "<mark>",
                '\uE001' => "</mark>",
                _ => character.ToString(),
            });
        }

        return html.ToString();
    }
}
