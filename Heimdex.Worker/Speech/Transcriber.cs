using System.Runtime.CompilerServices;

namespace Heimdex.Worker.Speech;

/// <summary>Speech recognition over a whole recording: voice activity splits it, the recogniser hears one region at a time.</summary>
public static class Transcriber
{
    /// <summary>
    /// The least speech still unheard for which another session starts: a new decoder takes about half a second to
    /// load and adapts its noise estimate in its first seconds, which this much speech (four seconds of decoding) repays.
    /// </summary>
    public const double MinSessionSeconds = 15;

    /// <summary>How often a waiting reader asks again whether cores have come free for another session.</summary>
    private static readonly TimeSpan LookAgain = TimeSpan.FromSeconds(1);

    public static async Task<IReadOnlyList<RecognizedSegment>> TranscribeAsync(WavFile audio, ISpeechRecognizer recognizer, CancellationToken cancellationToken)
    {
        var regions = VoiceActivity.FindRegions(audio, new VoiceActivity.Settings(), cancellationToken);
        var segments = new List<RecognizedSegment>();
        await foreach (var (_, recognized) in RecognizeInOrderAsync(audio, regions, recognizer, () => recognizer.SessionsAtOnce, cancellationToken))
        {
            segments.AddRange(recognized);
        }

        return segments;
    }

    /// <summary>
    /// Each region's segments, in the order of the regions, each as soon as it and every region before it are heard.
    /// Sessions take the regions in order of time, one at a time, as many at once as <paramref name="freeCores"/> says
    /// are free (no more than <see cref="ISpeechRecognizer.SessionsAtOnce"/>), asked again as they go: a session joins
    /// when the other stages leave a core (the picture branch finishing), one leaves when a stage takes it back.
    /// </summary>
    public static async IAsyncEnumerable<(SpeechRegion Region, IReadOnlyList<RecognizedSegment> Segments)> RecognizeInOrderAsync(
        WavFile audio, IReadOnlyList<SpeechRegion> regions, ISpeechRecognizer recognizer, Func<int> freeCores,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var hearing = new Hearing(audio, regions, recognizer, freeCores, cancellationToken);
        for (var i = 0; i < regions.Count; i++)
        {
            var heard = hearing.Heard(i);
            hearing.StartSessionsCoresAllow();
            while (!heard.IsCompleted)
            {
                await Task.WhenAny(heard, Task.Delay(LookAgain, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
                hearing.StartSessionsCoresAllow();
            }

            yield return (regions[i], await heard);
        }
    }

    /// <summary>One region's segments, timed from the start of the recording.</summary>
    public static IReadOnlyList<RecognizedSegment> Recognize(WavFile audio, SpeechRegion region, ISpeechSession session, CancellationToken cancellationToken) =>
        [.. session.Recognize(audio.Read(region.StartSample, region.Length), cancellationToken)
            .Select(segment => segment with
            {
                StartSeconds = region.StartSeconds + segment.StartSeconds,
                EndSeconds = Math.Min(region.EndSeconds, region.StartSeconds + segment.EndSeconds),
            })];

    /// <summary>The sessions hearing one recording's regions, and what each region was heard as.</summary>
    private sealed class Hearing(WavFile audio, IReadOnlyList<SpeechRegion> regions, ISpeechRecognizer recognizer, Func<int> freeCores, CancellationToken cancellationToken)
        : IAsyncDisposable
    {
        private readonly TaskCompletionSource<IReadOnlyList<RecognizedSegment>>[] _heard =
            [.. regions.Select(_ => new TaskCompletionSource<IReadOnlyList<RecognizedSegment>>(TaskCreationOptions.RunContinuationsAsynchronously))];

        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        private readonly List<Task> _sessions = [];
        private int _taken;
        private int _active;
        private volatile bool _failed;

        public Task<IReadOnlyList<RecognizedSegment>> Heard(int region) => _heard[region].Task;

        private int Wanted => Math.Max(1, Math.Min(freeCores(), recognizer.SessionsAtOnce));

        private double UntakenSeconds => regions.Skip(Volatile.Read(ref _taken)).Sum(r => r.EndSeconds - r.StartSeconds);

        /// <summary>Starts sessions while cores are free and enough speech is left for each to settle in; none after a failure.</summary>
        public void StartSessionsCoresAllow()
        {
            while (!_failed && Volatile.Read(ref _taken) < regions.Count && Volatile.Read(ref _active) < Wanted
                   && (Volatile.Read(ref _active) == 0 || UntakenSeconds >= MinSessionSeconds))
            {
                Interlocked.Increment(ref _active);
                // A thread of its own: a session decodes for minutes, and on two cores two of them would hold every
                // thread-pool thread the reader, the heartbeat and the database need.
                _sessions.Add(Task.Factory.StartNew(Listen, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
            }
        }

        private void Listen()
        {
            ISpeechSession? session = null;
            var region = -1;
            try
            {
                while (StaysOn() && (region = Interlocked.Increment(ref _taken) - 1) < regions.Count)
                {
                    session ??= recognizer.StartRecording();
                    _heard[region].SetResult(Recognize(audio, regions[region], session, _stop.Token));
                }
            }
            catch (Exception error)
            {
                _failed = true;
                _heard[region].TrySetException(error); // the reader stops at this region and tells what went wrong
            }
            finally
            {
                session?.Dispose();
            }
        }

        /// <summary>A session leaves, between regions, while more run than cores are free; the last one never does.</summary>
        private bool StaysOn()
        {
            for (var active = Volatile.Read(ref _active); active > Wanted; active = Volatile.Read(ref _active))
            {
                if (Interlocked.CompareExchange(ref _active, active - 1, active) == active)
                {
                    return false;
                }
            }

            return true;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_sessions); // no session outlives the recording it reads
            _stop.Dispose();
        }
    }
}
