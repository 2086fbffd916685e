using System.Runtime.CompilerServices;

namespace Heimdex.Worker.Speech;

/// <summary>Speech recognition over a whole recording: voice activity splits it, the recogniser hears one region at a time.</summary>
public static class Transcriber
{
    /// <summary>
    /// The least speech a session is given when the regions are shared out: a decoder adapts to what it hears, and a
    /// short stretch would end before it had.
    /// </summary>
    public const double MinStretchSeconds = 60;

    public static async Task<IReadOnlyList<RecognizedSegment>> TranscribeAsync(WavFile audio, ISpeechRecognizer recognizer, CancellationToken cancellationToken)
    {
        var regions = VoiceActivity.FindRegions(audio, new VoiceActivity.Settings(), cancellationToken);
        var segments = new List<RecognizedSegment>();
        await foreach (var (_, recognized) in RecognizeInOrderAsync(audio, regions, recognizer, recognizer.SessionsAtOnce, cancellationToken))
        {
            segments.AddRange(recognized);
        }

        return segments;
    }

    /// <summary>
    /// Each region's segments, in the order of the regions, each as soon as it and every region before it are heard.
    /// The regions are shared out in contiguous stretches among up to <paramref name="sessions"/> sessions (no more
    /// than <see cref="ISpeechRecognizer.SessionsAtOnce"/>) running at once, each hearing its stretch in order as one
    /// recording, so every core given decodes.
    /// </summary>
    public static async IAsyncEnumerable<(SpeechRegion Region, IReadOnlyList<RecognizedSegment> Segments)> RecognizeInOrderAsync(
        WavFile audio, IReadOnlyList<SpeechRegion> regions, ISpeechRecognizer recognizer, int sessions,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var heard = regions.Select(_ => new TaskCompletionSource<IReadOnlyList<RecognizedSegment>>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = Stretches(regions, Math.Min(sessions, recognizer.SessionsAtOnce)).Select(stretch => Task.Run(() =>
        {
            var next = stretch.Start.Value;
            try
            {
                using var session = recognizer.StartRecording();
                for (; next < stretch.End.Value; next++)
                {
                    heard[next].SetResult(Recognize(audio, regions[next], session, stop.Token));
                }
            }
            catch (Exception error)
            {
                heard[next].TrySetException(error); // the reader stops at this region and tells what went wrong
            }
        }, CancellationToken.None)).ToList();
        try
        {
            for (var i = 0; i < regions.Count; i++)
            {
                yield return (regions[i], await heard[i].Task.WaitAsync(cancellationToken));
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(running); // no session outlives the recording it reads
        }
    }

    /// <summary>Contiguous runs of regions, one per session, of about equal speech and at least <see cref="MinStretchSeconds"/> each.</summary>
    public static IReadOnlyList<Range> Stretches(IReadOnlyList<SpeechRegion> regions, int sessionsAtOnce)
    {
        var total = regions.Sum(r => r.EndSeconds - r.StartSeconds);
        var count = Math.Clamp((int)(total / MinStretchSeconds), 1, Math.Max(1, sessionsAtOnce));
        var stretches = new List<Range>();
        var (start, spoken) = (0, 0.0);
        for (var i = 0; i < regions.Count; i++)
        {
            spoken += regions[i].EndSeconds - regions[i].StartSeconds;
            if (stretches.Count < count - 1 && spoken >= total * (stretches.Count + 1) / count)
            {
                stretches.Add(start..(i + 1));
                start = i + 1;
            }
        }

        if (start < regions.Count)
        {
            stretches.Add(start..regions.Count);
        }

        return stretches;
    }

    /// <summary>One region's segments, timed from the start of the recording.</summary>
    public static IReadOnlyList<RecognizedSegment> Recognize(WavFile audio, SpeechRegion region, ISpeechSession session, CancellationToken cancellationToken) =>
        [.. session.Recognize(audio.Read(region.StartSample, region.Length), cancellationToken)
            .Select(segment => segment with
            {
                StartSeconds = region.StartSeconds + segment.StartSeconds,
                EndSeconds = Math.Min(region.EndSeconds, region.StartSeconds + segment.EndSeconds),
            })];
}
