namespace Heimdex.Worker.Speech;

/// <summary>A stretch of audio, in samples, that is sent to the recogniser as one utterance.</summary>
public readonly record struct SpeechRegion(long StartSample, long EndSample)
{
    public double StartSeconds => (double)StartSample / WavFile.SampleRate;

    public double EndSeconds => (double)EndSample / WavFile.SampleRate;

    public int Length => (int)(EndSample - StartSample);
}

/// <summary>
/// Energy-based voice activity: frames louder than the recording's own noise floor by a margin are speech; speech
/// separated by a pause long enough to end a sentence becomes separate regions, and regions longer than a
/// recogniser's window are cut at their quietest frame. The audio is split where nobody is talking, so a word is
/// never cut in two between chunks.
/// </summary>
public static class VoiceActivity
{
    private const int FrameSamples = WavFile.SampleRate / 100; // 10 ms

    public sealed record Settings(
        double MarginDecibels = 12,
        double SilenceFloorDecibels = -65,
        double BelowPeakDecibels = 6,
        double MinPauseSeconds = 0.35,
        double MinSpeechSeconds = 0.2,
        double PaddingSeconds = 0.15,
        double MaxRegionSeconds = 25);

    public static IReadOnlyList<SpeechRegion> FindRegions(WavFile audio, Settings settings, CancellationToken cancellationToken)
    {
        var energies = FrameEnergies(audio, cancellationToken);
        if (energies.Count == 0)
        {
            return [];
        }

        var sorted = energies.Order().ToArray();
        var (noiseFloor, peak) = (sorted[sorted.Length / 10], sorted[sorted.Length * 98 / 100]);
        // Relative to the recording itself, so a quietly recorded talk is heard as well as a loud one; a recording
        // that is speech from end to end has no quiet tenth, so the threshold also stays a little under its peak.
        var threshold = Math.Max(Math.Min(noiseFloor + settings.MarginDecibels, peak - settings.BelowPeakDecibels), settings.SilenceFloorDecibels);
        var frames = new List<(int Start, int End)>();
        var minPause = (int)(settings.MinPauseSeconds * 100);
        int? start = null;
        var lastSpeech = -1;
        for (var i = 0; i < energies.Count; i++)
        {
            if (energies[i] < threshold)
            {
                continue;
            }

            if (start is null || i - lastSpeech > minPause)
            {
                if (start is not null)
                {
                    frames.Add((start.Value, lastSpeech + 1));
                }

                start = i;
            }

            lastSpeech = i;
        }

        if (start is not null)
        {
            frames.Add((start.Value, lastSpeech + 1));
        }

        var padding = (int)(settings.PaddingSeconds * 100);
        var maxFrames = (int)(settings.MaxRegionSeconds * 100);
        return frames
            .Where(f => f.End - f.Start >= settings.MinSpeechSeconds * 100)
            .Select(f => (Start: Math.Max(0, f.Start - padding), End: Math.Min(energies.Count, f.End + padding)))
            .SelectMany(f => SplitLong(energies, f.Start, f.End, maxFrames))
            .Select(f => new SpeechRegion((long)f.Start * FrameSamples, Math.Min(audio.SampleCount, (long)f.End * FrameSamples)))
            .ToList();
    }

    private static IEnumerable<(int Start, int End)> SplitLong(List<double> energies, int start, int end, int maxFrames)
    {
        while (end - start > maxFrames)
        {
            // Cut in the quietest frame of the window's second half, so both parts stay long enough to carry words.
            var from = start + maxFrames / 2;
            var cut = Enumerable.Range(from, maxFrames - maxFrames / 2).MinBy(i => energies[i]);
            yield return (start, cut);
            start = cut;
        }

        yield return (start, end);
    }

    /// <summary>RMS level of each 10 ms frame in dBFS, read through the file in one pass.</summary>
    private static List<double> FrameEnergies(WavFile audio, CancellationToken cancellationToken)
    {
        var energies = new List<double>((int)(audio.SampleCount / FrameSamples) + 1);
        const int block = FrameSamples * 1000;
        for (long offset = 0; offset < audio.SampleCount; offset += block)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var samples = audio.Read(offset, block);
            for (var frame = 0; frame + FrameSamples <= samples.Length; frame += FrameSamples)
            {
                double sum = 0;
                for (var i = frame; i < frame + FrameSamples; i++)
                {
                    sum += (double)samples[i] * samples[i];
                }

                energies.Add(10 * Math.Log10(sum / FrameSamples / (32768.0 * 32768.0) + 1e-12));
            }
        }

        return energies;
    }
}
