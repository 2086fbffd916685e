namespace Heimdex.Worker.Speech;

/// <summary>A stretch of recognised speech, in seconds from the start of the audio handed to the recogniser.</summary>
public sealed record RecognizedSegment(double StartSeconds, double EndSeconds, string Text, double Confidence);

/// <summary>A speech-to-text engine, loaded once per worker process.</summary>
public interface ISpeechRecognizer
{
    /// <summary>The engine and model, as recorded with the transcript.</summary>
    string Name { get; }

    /// <summary>Starts hearing one recording; whatever the engine adapts to while it listens stays with that recording.</summary>
    ISpeechSession StartRecording();

    /// <summary>
    /// How many sessions are worth running at once on one recording's parts: one per core for an engine that decodes
    /// on one thread, one for an engine that already uses every core.
    /// </summary>
    int SessionsAtOnce { get; }
}

/// <summary>
/// One recording's recognition, handed its pause-delimited regions in order (16 kHz mono samples, at most
/// <see cref="VoiceActivity.Settings.MaxRegionSeconds"/> long).
/// </summary>
public interface ISpeechSession : IDisposable
{
    IReadOnlyList<RecognizedSegment> Recognize(short[] samples, CancellationToken cancellationToken);
}
