using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Heimdex.Tests.Lectures;

/// <summary>A cue read back from a subtitle file.</summary>
public sealed record ParsedCue(double StartSeconds, double EndSeconds, IReadOnlyList<string> Lines);

/// <summary>Strict readers of SubRip and WebVTT as their formats define them, so a malformed file fails the test that reads it.</summary>
public static partial class SubtitleFiles
{
    public static IReadOnlyList<ParsedCue> ParseSrt(string text)
    {
        var cues = new List<ParsedCue>();
        foreach (var (block, number) in Blocks(text).Select((block, i) => (block, i + 1)))
        {
            Assert.True(block.Length >= 3, $"SRT cue {number} needs a number, a time line and text: {string.Join(" | ", block)}");
            Assert.Equal(number.ToString(CultureInfo.InvariantCulture), block[0]);
            var times = SrtTimes().Match(block[1]);
            Assert.True(times.Success, $"SRT time line: {block[1]}");
            cues.Add(new ParsedCue(Seconds(times, 1), Seconds(times, 5), block[2..]));
        }

        return cues;
    }

    public static IReadOnlyList<ParsedCue> ParseWebVtt(string text)
    {
        Assert.StartsWith("WEBVTT\n\n", text);
        var cues = new List<ParsedCue>();
        foreach (var block in Blocks(text["WEBVTT\n\n".Length..]))
        {
            var times = VttTimes().Match(block[0]);
            Assert.True(times.Success, $"WebVTT time line: {block[0]}");
            Assert.True(block.Length >= 2, $"WebVTT cue without text: {block[0]}");
            Assert.All(block[1..], line => Assert.DoesNotMatch("[<>]|&(?!amp;|lt;|gt;)", line));
            cues.Add(new ParsedCue(Seconds(times, 1), Seconds(times, 5), [.. block[1..].Select(line => WebUtility.HtmlDecode(line))]));
        }

        return cues;
    }

    private static IEnumerable<string[]> Blocks(string text)
    {
        Assert.DoesNotContain("\r", text);
        Assert.True(text.Length == 0 || text.EndsWith("\n\n", StringComparison.Ordinal), "the file ends with a blank line after its last cue");
        return text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block => block.Split('\n'));
    }

    private static double Seconds(Match match, int group) =>
        int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) * 3600
        + int.Parse(match.Groups[group + 1].Value, CultureInfo.InvariantCulture) * 60
        + int.Parse(match.Groups[group + 2].Value, CultureInfo.InvariantCulture)
        + int.Parse(match.Groups[group + 3].Value, CultureInfo.InvariantCulture) / 1000.0;

    [GeneratedRegex(@"^(\d{2}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d),(\d{3})$")]
    private static partial Regex SrtTimes();

    [GeneratedRegex(@"^(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})$")]
    private static partial Regex VttTimes();
}
