namespace Heimdex.Worker.Speech;

/// <summary>A stretch of recognised speech, in seconds from the start of the audio handed to the recogniser.</summary>
public sealed record RecognizedSegment(double StartSeconds, double EndSeconds, string Text, double Confidence);

/// <summary>
/// A speech-to-text engine. It is loaded once per worker process and handed one pause-delimited region at a time
/// (16 kHz mono samples, at most <see cref="VoiceActivity.Settings.MaxRegionSeconds"/> long).
/// </summary>
public interface ISpeechRecognizer
{
    /// <summary>The engine and model, as recorded with the transcript.</summary>
    string Name { get; }

    IReadOnlyList<RecognizedSegment> Recognize(short[] samples, CancellationToken cancellationToken);
}
