using Heimdex.Worker.Speech;

namespace Heimdex.Tests.Speech;

/// <summary>How a recording's regions are shared out among sessions running at once, and handed back in order.</summary>
public sealed class TranscriberTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static List<SpeechRegion> Regions(int count, double seconds) =>
        [.. Enumerable.Range(0, count).Select(i => new SpeechRegion((long)(i * seconds * WavFile.SampleRate), (long)((i + 1) * seconds * WavFile.SampleRate)))];

    /// <summary>Twenty regions of 10 s and a little more, each 10 ms longer than the one before: a region's length tells which it is.</summary>
    private static List<SpeechRegion> NumberedRegions()
    {
        var regions = new List<SpeechRegion>();
        for (var (i, start) = (0, 0L); i < 20; i++, start = regions[^1].EndSample)
        {
            regions.Add(new SpeechRegion(start, start + FakeRecognizer.LengthOf(i)));
        }

        return regions;
    }

    [Fact]
    public void Regions_are_shared_in_contiguous_stretches_of_about_equal_speech_never_shorter_than_a_minute()
    {
        Assert.Equal([0..10, 10..20], Transcriber.Stretches(Regions(20, 10), sessionsAtOnce: 2));
        Assert.Equal([0..7, 7..14, 14..20], Transcriber.Stretches(Regions(20, 10), sessionsAtOnce: 3));
        Assert.Equal([0..20], Transcriber.Stretches(Regions(20, 10), sessionsAtOnce: 1));
        Assert.Equal([0..9], Transcriber.Stretches(Regions(9, 10), sessionsAtOnce: 4)); // 90 s: one stretch
        Assert.Equal([0..6, 6..12], Transcriber.Stretches(Regions(12, 10), sessionsAtOnce: 4)); // 120 s: two at most
        Assert.Empty(Transcriber.Stretches([], sessionsAtOnce: 2));
    }

    [Fact]
    public async Task Stretches_are_heard_at_once_by_sessions_of_their_own_and_handed_back_in_order_of_time()
    {
        using var audio = WavFile.Open(await TestAudio.SynthesizeAsync([(205, true)]));
        var regions = NumberedRegions();
        var recognizer = new FakeRecognizer(slowRegion: 0); // the first stretch is slow, the second finishes first

        var heard = new List<(SpeechRegion Region, string Text)>();
        await foreach (var (region, segments) in Transcriber.RecognizeInOrderAsync(audio, regions, recognizer, sessions: 4, Cancellation))
        {
            heard.Add((region, Assert.Single(segments).Text));
        }

        Assert.Equal(regions, heard.Select(h => h.Region));
        Assert.Equal(2, recognizer.MostAtOnce);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), heard.Select(h => h.Text.Split('/')[1]));
        var sessions = heard.Select(h => h.Text.Split('/')[0]).ToList();
        Assert.Equal(2, sessions.Distinct().Count());
        Assert.Equal(1, sessions.Zip(sessions.Skip(1)).Count(pair => pair.First != pair.Second)); // each session hears one contiguous stretch
        Assert.Equal(regions[3].StartSeconds + 1, Assert.Single(await RecognizedAsync(audio, [regions[3]], recognizer)).StartSeconds, 3); // timed from the recording's start

        var alone = new FakeRecognizer(); // one core left free by the other stages: one session
        await foreach (var _ in Transcriber.RecognizeInOrderAsync(audio, regions, alone, sessions: 1, Cancellation))
        {
        }

        Assert.Equal(1, alone.MostAtOnce);
    }

    [Fact]
    public async Task A_session_that_fails_stops_the_transcript_at_that_region_and_no_session_is_left_running()
    {
        using var audio = WavFile.Open(await TestAudio.SynthesizeAsync([(205, true)]));
        var recognizer = new FakeRecognizer(failingRegion: 12);

        var heard = new List<SpeechRegion>();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var (region, _) in Transcriber.RecognizeInOrderAsync(audio, NumberedRegions(), recognizer, sessions: 2, Cancellation))
            {
                heard.Add(region);
            }
        });

        Assert.Equal("cannot hear region 12", error.Message);
        Assert.Equal(12, heard.Count);
        Assert.Equal(0, recognizer.Running);
    }

    private static async Task<IReadOnlyList<RecognizedSegment>> RecognizedAsync(WavFile audio, IReadOnlyList<SpeechRegion> regions, ISpeechRecognizer recognizer)
    {
        var all = new List<RecognizedSegment>();
        await foreach (var (_, segments) in Transcriber.RecognizeInOrderAsync(audio, regions, recognizer, sessions: 4, Cancellation))
        {
            all.AddRange(segments);
        }

        return all;
    }

    /// <summary>Hears a region as one segment from 1 s into it, named after its session and the region's number.</summary>
    private sealed class FakeRecognizer(int? slowRegion = null, int? failingRegion = null) : ISpeechRecognizer
    {
        public static int LengthOf(int region) => (int)((10 + region * 0.01) * WavFile.SampleRate);

        private int _sessions;
        private int _running;
        private int _mostAtOnce;

        public string Name => "fake";

        public int SessionsAtOnce => 2;

        public int Running => Volatile.Read(ref _running);

        public int MostAtOnce => Volatile.Read(ref _mostAtOnce);

        public ISpeechSession StartRecording()
        {
            var running = Interlocked.Increment(ref _running);
            InterlockedMax(ref _mostAtOnce, running);
            return new Session(this, Interlocked.Increment(ref _sessions));
        }

        private static void InterlockedMax(ref int target, int value)
        {
            for (var current = Volatile.Read(ref target); value > current; current = Volatile.Read(ref target))
            {
                Interlocked.CompareExchange(ref target, value, current);
            }
        }

        private sealed class Session(FakeRecognizer owner, int id) : ISpeechSession
        {
            public IReadOnlyList<RecognizedSegment> Recognize(short[] samples, CancellationToken cancellationToken)
            {
                var number = (int)Math.Round((samples.Length - LengthOf(0)) / (double)(LengthOf(1) - LengthOf(0)));
                if (number == owner._failing)
                {
                    throw new InvalidOperationException($"cannot hear region {number}");
                }

                if (number == owner._slow)
                {
                    Thread.Sleep(500);
                }

                cancellationToken.ThrowIfCancellationRequested();
                return [new RecognizedSegment(1, 2, $"{id}/{number}", 1)];
            }

            public void Dispose() => Interlocked.Decrement(ref owner._running);
        }

        private readonly int? _slow = slowRegion;
        private readonly int? _failing = failingRegion;
    }
}
