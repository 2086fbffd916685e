namespace Heimdex.Shared.Videos;

/// <summary>A word of the transcript with the stretch of time it was said in.</summary>
public sealed record SpokenWord(string Text, double StartSeconds, double EndSeconds, int SegmentIndex)
{
    public double MiddleSeconds => (StartSeconds + EndSeconds) / 2;
}

public static class SpokenWords
{
    /// <summary>
    /// The transcript's words in order. The recogniser times segments, not words, so each word gets a share of its
    /// segment's time in proportion to its length (plus one for the space after it): long words take longer to say.
    /// </summary>
    public static IReadOnlyList<SpokenWord> Of(IEnumerable<TranscriptSegment> segments)
    {
        var words = new List<SpokenWord>();
        foreach (var segment in segments.OrderBy(s => s.StartSeconds))
        {
            var texts = segment.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var total = texts.Sum(w => w.Length + 1.0);
            var perUnit = Math.Max(0, segment.EndSeconds - segment.StartSeconds) / Math.Max(1, total);
            var at = segment.StartSeconds;
            foreach (var text in texts)
            {
                var end = at + (text.Length + 1) * perUnit;
                words.Add(new SpokenWord(text, at, end, segment.Index));
                at = end;
            }
        }

        return words;
    }
}
