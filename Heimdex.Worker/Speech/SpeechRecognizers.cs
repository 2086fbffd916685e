using Heimdex.Shared.Models;

namespace Heimdex.Worker.Speech;

public static class SpeechRecognizers
{
    /// <summary>Whisper when the user configured a ggml model; otherwise pocketsphinx, which Debian ships with its model.</summary>
    public static ISpeechRecognizer Create(ModelOptions options) => options.WhisperModelPath is { Length: > 0 } whisperModel
        ? new WhisperRecognizer(whisperModel)
        : new PocketsphinxRecognizer();
}
