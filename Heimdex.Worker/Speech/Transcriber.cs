namespace Heimdex.Worker.Speech;

/// <summary>Speech recognition over a whole recording: voice activity splits it, the recogniser hears one region at a time.</summary>
public static class Transcriber
{
    public static IEnumerable<RecognizedSegment> Transcribe(WavFile audio, ISpeechRecognizer recognizer, CancellationToken cancellationToken) =>
        VoiceActivity.FindRegions(audio, new VoiceActivity.Settings(), cancellationToken)
            .SelectMany(region => Recognize(audio, region, recognizer, cancellationToken));

    /// <summary>One region's segments, timed from the start of the recording.</summary>
    public static IReadOnlyList<RecognizedSegment> Recognize(WavFile audio, SpeechRegion region, ISpeechRecognizer recognizer, CancellationToken cancellationToken) =>
        [.. recognizer.Recognize(audio.Read(region.StartSample, region.Length), cancellationToken)
            .Select(segment => segment with
            {
                StartSeconds = region.StartSeconds + segment.StartSeconds,
                EndSeconds = Math.Min(region.EndSeconds, region.StartSeconds + segment.EndSeconds),
            })];
}
