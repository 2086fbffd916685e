using System.Globalization;
using System.Text;
using Heimdex.Shared.Videos;

namespace Heimdex.Api.Lectures;

/// <summary>A subtitle: lines shown together from <c>Start</c> to <c>End</c>.</summary>
public sealed record SubtitleCue(double StartSeconds, double EndSeconds, IReadOnlyList<string> Lines);

/// <summary>
/// The timed transcript as subtitles people can read: at most <see cref="MaxLineLength"/> characters a line and
/// <see cref="MaxLines"/> lines a cue, a cue on screen at most <see cref="MaxCueSeconds"/> seconds, cues in order and
/// never overlapping. A cue also ends where speech pauses (a new transcript segment), so no text hangs on screen
/// through silence. A word longer than a line (a URL) is split across lines.
/// </summary>
public static class Subtitles
{
    public const int MaxLineLength = 42;
    public const int MaxLines = 2;
    public const double MaxCueSeconds = 7;

    public static IReadOnlyList<SubtitleCue> Cues(IEnumerable<TranscriptSegment> segments)
    {
        var cues = new List<SubtitleCue>();
        var lines = new List<string>();
        var line = new StringBuilder();
        SpokenWord? first = null;
        SpokenWord? last = null;

        void Close()
        {
            if (first is null || last is null)
            {
                return;
            }

            if (line.Length > 0)
            {
                lines.Add(line.ToString());
            }

            var start = Math.Max(first.StartSeconds, cues.Count > 0 ? cues[^1].EndSeconds : 0);
            cues.Add(new SubtitleCue(start, Math.Clamp(last.EndSeconds, start, start + MaxCueSeconds), [.. lines]));
            (first, last) = (null, null);
            lines.Clear();
            line.Clear();
        }

        foreach (var word in SpokenWords.Of(segments).SelectMany(LinePieces))
        {
            if (first is not null && (word.SegmentIndex != last!.SegmentIndex || word.EndSeconds - first.StartSeconds > MaxCueSeconds))
            {
                Close();
            }

            if (line.Length > 0 && line.Length + 1 + word.Text.Length > MaxLineLength)
            {
                if (lines.Count + 1 == MaxLines)
                {
                    Close();
                }
                else
                {
                    lines.Add(line.ToString());
                    line.Clear();
                }
            }

            line.Append(line.Length > 0 ? " " : "").Append(word.Text);
            first ??= word;
            last = word;
        }

        Close();
        return cues;
    }

    /// <summary>A word longer than a line (a URL) as pieces that fit one, each with its share of the word's time.</summary>
    private static IEnumerable<SpokenWord> LinePieces(SpokenWord word)
    {
        var perCharacter = (word.EndSeconds - word.StartSeconds) / word.Text.Length;
        for (var at = 0; at < word.Text.Length; at += MaxLineLength)
        {
            var length = Math.Min(MaxLineLength, word.Text.Length - at);
            yield return word with
            {
                Text = word.Text.Substring(at, length),
                StartSeconds = word.StartSeconds + at * perCharacter,
                EndSeconds = word.StartSeconds + (at + length) * perCharacter,
            };
        }
    }

    /// <summary>SubRip: numbered cues, <c>HH:MM:SS,mmm --&gt; HH:MM:SS,mmm</c>, a blank line after each.</summary>
    public static string ToSrt(IReadOnlyList<SubtitleCue> cues)
    {
        var text = new StringBuilder();
        for (var i = 0; i < cues.Count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{i + 1}\n{Time(cues[i].StartSeconds, ',')} --> {Time(cues[i].EndSeconds, ',')}\n");
            foreach (var line in cues[i].Lines)
            {
                text.Append(line).Append('\n');
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>WebVTT: the header, then cues <c>HH:MM:SS.mmm --&gt; HH:MM:SS.mmm</c> with <c>&amp;</c>, <c>&lt;</c> and <c>&gt;</c> escaped.</summary>
    public static string ToWebVtt(IReadOnlyList<SubtitleCue> cues)
    {
        var text = new StringBuilder("WEBVTT\n\n");
        foreach (var cue in cues)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Time(cue.StartSeconds, '.')} --> {Time(cue.EndSeconds, '.')}\n");
            foreach (var line in cue.Lines)
            {
                text.Append(line.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
                    .Replace(">", "&gt;", StringComparison.Ordinal)).Append('\n');
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    private static string Time(double seconds, char decimalSeparator)
    {
        var time = TimeSpan.FromMilliseconds(Math.Round(Math.Max(0, seconds) * 1000));
        return string.Create(CultureInfo.InvariantCulture, $"{(int)time.TotalHours:00}:{time.Minutes:00}:{time.Seconds:00}{decimalSeparator}{time.Milliseconds:000}");
    }
}
