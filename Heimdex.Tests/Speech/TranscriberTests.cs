using Heimdex.Worker.Speech;

namespace Heimdex.Tests.Speech;

/// <summary>How a recording's regions are shared out among sessions running at once, and handed back in order.</summary>
public sealed class TranscriberTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

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
    public async Task Regions_are_heard_at_once_by_as_many_sessions_as_cores_are_free_and_handed_back_in_order_of_time()
    {
        using var audio = WavFile.Open(await TestAudio.SynthesizeAsync([(205, true)]));
        var regions = NumberedRegions();
        var recognizer = new FakeRecognizer(slowRegion: 0); // the first region is slow: the other session hears the rest first

        var heard = await HeardAsync(audio, regions, recognizer, () => 4);

        Assert.Equal(regions, heard.Select(h => h.Region));
        Assert.Equal(2, recognizer.MostAtOnce); // four cores free, but the engine is worth two sessions
        Assert.Equal(Enumerable.Range(0, 20), heard.Select(h => h.Number));
        Assert.Equal(2, heard.Select(h => h.Session).Distinct().Count());
        foreach (var session in heard.GroupBy(h => h.Session))
        {
            Assert.Equal(session.Select(h => h.Number).Order(), session.Select(h => h.Number)); // each session hears its regions in order of time
        }

        Assert.Equal(regions[3].StartSeconds + 1, Assert.Single(await RecognizedAsync(audio, [regions[3]], recognizer)).StartSeconds, 3); // timed from the recording's start

        var alone = new FakeRecognizer(); // one core left free by the other stages: one session
        await HeardAsync(audio, regions, alone, () => 1);
        Assert.Equal(1, alone.MostAtOnce);
    }

    [Fact]
    public async Task A_session_joins_when_another_stage_frees_a_core_and_one_leaves_when_a_stage_takes_it_back()
    {
        using var audio = WavFile.Open(await TestAudio.SynthesizeAsync([(205, true)]));
        var recognizer = new FakeRecognizer(regionMilliseconds: 100);
        var free = 1;

        var heard = await HeardAsync(audio, NumberedRegions(), recognizer, () => Volatile.Read(ref free), afterRegion: number =>
        {
            if (number is 4 or 11)
            {
                Volatile.Write(ref free, number == 4 ? 2 : 1); // the picture branch finishes; then another video's stage starts
            }
        });

        Assert.Equal(Enumerable.Range(0, 20), heard.Select(h => h.Number));
        Assert.Equal(2, recognizer.MostAtOnce);
        Assert.Single(heard.Take(5).Select(h => h.Session).Distinct()); // one session while one core was free
        Assert.Equal(2, heard.Skip(5).Take(10).Select(h => h.Session).Distinct().Count()); // a second joined
        Assert.True(heard.Skip(16).Select(h => h.Session).Distinct().Count() == 1, string.Join(" ", heard.Select(h => $"{h.Number}:{h.Session}"))); // and one left after the region it was hearing
        Assert.Equal(0, recognizer.Running);
    }

    [Fact]
    public async Task No_session_joins_for_less_speech_than_it_needs_to_settle_in()
    {
        using var audio = WavFile.Open(await TestAudio.SynthesizeAsync([(205, true)]));
        var recognizer = new FakeRecognizer(regionMilliseconds: 40);
        var free = 1;

        // Cores come free when at most one region of 10 s is left: not worth a new session.
        await HeardAsync(audio, NumberedRegions(), recognizer, () => Volatile.Read(ref free), afterRegion: number =>
        {
            if (number == 18)
            {
                Volatile.Write(ref free, 2);
            }
        });

        Assert.Equal(1, recognizer.MostAtOnce);
    }

    [Fact]
    public async Task A_session_that_fails_stops_the_transcript_at_that_region_and_no_session_is_left_running()
    {
        using var audio = WavFile.Open(await TestAudio.SynthesizeAsync([(205, true)]));
        var recognizer = new FakeRecognizer(failingRegion: 12);

        var heard = new List<SpeechRegion>();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var (region, _) in Transcriber.RecognizeInOrderAsync(audio, NumberedRegions(), recognizer, () => 2, Cancellation))
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
        await foreach (var (_, segments) in Transcriber.RecognizeInOrderAsync(audio, regions, recognizer, () => 4, Cancellation))
        {
            all.AddRange(segments);
        }

        return all;
    }

    /// <summary>Each region as handed back: which session heard it, and its number (from its length).</summary>
    private static async Task<List<(SpeechRegion Region, string Session, int Number)>> HeardAsync(
        WavFile audio, IReadOnlyList<SpeechRegion> regions, ISpeechRecognizer recognizer, Func<int> freeCores, Action<int>? afterRegion = null)
    {
        var heard = new List<(SpeechRegion Region, string Session, int Number)>();
        await foreach (var (region, segments) in Transcriber.RecognizeInOrderAsync(audio, regions, recognizer, freeCores, Cancellation))
        {
            var parts = Assert.Single(segments).Text.Split('/');
            heard.Add((region, parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)));
            afterRegion?.Invoke(heard[^1].Number);
        }

        return heard;
    }

    /// <summary>Hears a region as one segment from 1 s into it, named after its session and the region's number.</summary>
    private sealed class FakeRecognizer(int? slowRegion = null, int? failingRegion = null, int regionMilliseconds = 0) : ISpeechRecognizer
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

                Thread.Sleep(number == owner._slow ? 500 : owner._regionMilliseconds);

                cancellationToken.ThrowIfCancellationRequested();
                return [new RecognizedSegment(1, 2, $"{id}/{number}", 1)];
            }

            public void Dispose() => Interlocked.Decrement(ref owner._running);
        }

        private readonly int? _slow = slowRegion;
        private readonly int? _failing = failingRegion;
        private readonly int _regionMilliseconds = regionMilliseconds;
    }
}
