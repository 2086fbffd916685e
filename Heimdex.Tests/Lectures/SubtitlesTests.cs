using Heimdex.Api.Lectures;
using Heimdex.Shared.Videos;

namespace Heimdex.Tests.Lectures;

public sealed class SubtitlesTests
{
    /// <summary>A transcript as a recogniser gives it: segments of any length between pauses, a few very long.</summary>
    private static List<TranscriptSegment> Transcript(int seed, int segments)
    {
        var random = new Random(seed);
        var at = 0.5;
        return [.. Enumerable.Range(0, segments).Select(index =>
        {
            var words = Enumerable.Range(0, random.Next(1, 60))
                .Select(_ => new string((char)('a' + random.Next(26)), random.Next(1, random.Next(10) == 0 ? 50 : 12)));
            var start = at + random.NextDouble() * 2;
            var end = start + 0.3 + random.NextDouble() * 25;
            at = end;
            return new TranscriptSegment { Index = index, StartSeconds = start, EndSeconds = end, Text = string.Join(' ', words) };
        })];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Cues_keep_to_the_limits_and_never_overlap(int seed)
    {
        var transcript = Transcript(seed, 40);

        var cues = Subtitles.Cues(transcript);

        Assert.All(cues, cue =>
        {
            Assert.InRange(cue.Lines.Count, 1, Subtitles.MaxLines);
            Assert.All(cue.Lines, line => Assert.InRange(line.Length, 1, Subtitles.MaxLineLength));
            Assert.True(cue.EndSeconds > cue.StartSeconds, $"{cue.StartSeconds} → {cue.EndSeconds}");
            Assert.True(cue.EndSeconds - cue.StartSeconds <= Subtitles.MaxCueSeconds + 1e-9, $"{cue.StartSeconds} → {cue.EndSeconds}");
        });
        Assert.All(cues.Zip(cues.Skip(1)), pair => Assert.True(pair.First.EndSeconds <= pair.Second.StartSeconds));
        Assert.Equal(string.Concat(transcript.SelectMany(s => s.Text.Split(' '))), string.Concat(cues.SelectMany(c => c.Lines).Select(l => l.Replace(" ", ""))));
    }

    [Fact]
    public void A_cue_ends_where_speech_pauses_and_stays_within_its_segment()
    {
        TranscriptSegment[] transcript =
        [
            new() { Index = 0, StartSeconds = 1, EndSeconds = 2.5, Text = "hello there" },
            new() { Index = 1, StartSeconds = 10, EndSeconds = 12, Text = "after a pause" },
        ];

        var cues = Subtitles.Cues(transcript);

        Assert.Equal([(1.0, 2.5, "hello there"), (10.0, 12.0, "after a pause")], cues.Select(c => (Math.Round(c.StartSeconds, 9), Math.Round(c.EndSeconds, 9), string.Join(' ', c.Lines))));
    }

    [Fact]
    public void Srt_and_WebVtt_read_back_to_the_same_times_and_words()
    {
        var transcript = Transcript(7, 30);
        transcript[3] = new TranscriptSegment { Index = 3, StartSeconds = transcript[3].StartSeconds, EndSeconds = transcript[3].EndSeconds, Text = "fish & chips <b>bold</b> a->b" };
        var cues = Subtitles.Cues(transcript);

        foreach (var parsed in new[] { SubtitleFiles.ParseSrt(Subtitles.ToSrt(cues)), SubtitleFiles.ParseWebVtt(Subtitles.ToWebVtt(cues)) })
        {
            Assert.Equal(cues.Count, parsed.Count);
            Assert.All(cues.Zip(parsed), pair =>
            {
                Assert.Equal(pair.First.StartSeconds, pair.Second.StartSeconds, 0.0006);
                Assert.Equal(pair.First.EndSeconds, pair.Second.EndSeconds, 0.0006);
                Assert.Equal(pair.First.Lines, pair.Second.Lines);
            });
        }
    }

    [Fact]
    public void No_speech_makes_valid_empty_files()
    {
        var cues = Subtitles.Cues([]);

        Assert.Empty(SubtitleFiles.ParseSrt(Subtitles.ToSrt(cues)));
        Assert.Empty(SubtitleFiles.ParseWebVtt(Subtitles.ToWebVtt(cues)));
    }
}
