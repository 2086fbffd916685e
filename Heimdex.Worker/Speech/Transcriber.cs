namespace Heimdex.Worker.Speech;

/// <summary>Speech recognition over a whole recording: voice activity splits it, the recogniser hears one region at a time.</summary>
public static class Transcriber
{
    public static IReadOnlyList<RecognizedSegment> Transcribe(WavFile audio, ISpeechRecognizer recognizer, CancellationToken cancellationToken)
    {
        using var session = recognizer.StartRecording();
        return [.. VoiceActivity.FindRegions(audio, new VoiceActivity.Settings(), cancellationToken)
            .SelectMany(region => Recognize(audio, region, session, cancellationToken))];
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
