using System.Globalization;
using System.Text.RegularExpressions;

namespace Heimdex.Tests.Lectures;

/// <summary>What poppler's tools read in a PDF: the page count and each page's text.</summary>
public static partial class PdfText
{
    public static async Task<IReadOnlyList<string>> PagesAsync(string pdf)
    {
        await TestTools.EnsureAsync(TestTools.PdfToText, TestTools.PdfInfo);
        var (exitCode, info) = await TestFiles.RunAsync("pdfinfo", Path.GetTempPath(), pdf);
        Assert.True(exitCode == 0, info);
        var count = int.Parse(PageCount().Match(info).Groups[1].Value, CultureInfo.InvariantCulture);
        var pages = new List<string>();
        for (var page = 1; page <= count; page++)
        {
            var number = page.ToString(CultureInfo.InvariantCulture);
            var (status, text) = await TestFiles.RunAsync("pdftotext", Path.GetTempPath(), "-f", number, "-l", number, pdf, "-");
            Assert.True(status == 0, text);
            pages.Add(text);
        }

        return pages;
    }

    /// <summary>The words of a text, lower case, without punctuation.</summary>
    public static IReadOnlyList<string> Words(string text) =>
        [.. Word().Matches(text.ToLowerInvariant()).Select(m => m.Value)];

    [GeneratedRegex(@"^Pages:\s+(\d+)", RegexOptions.Multiline)]
    private static partial Regex PageCount();

    [GeneratedRegex(@"[\p{L}\p{N}']+")]
    private static partial Regex Word();
}
