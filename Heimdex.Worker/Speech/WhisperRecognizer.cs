using Whisper.net;

namespace Heimdex.Worker.Speech;

/// <summary>
/// whisper.cpp through Whisper.net (its native runtime comes with the Whisper.net.Runtime package) with a ggml model
/// the user brings. The model loads once per worker; each recording gets its own processor.
/// </summary>
public sealed class WhisperRecognizer : ISpeechRecognizer, IDisposable
{
    private readonly WhisperFactory _factory;

    public WhisperRecognizer(string modelPath)
    {
        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"the Whisper model {modelPath} (Models__WhisperModelPath) does not exist; download a ggml model such as ggml-base.en.bin there, or unset it to use pocketsphinx.", modelPath);
        }

        WhisperFactory? factory = null;
        try
        {
            factory = WhisperFactory.FromPath(modelPath);
            // The factory loads the model when the first processor is built: a model it cannot load is refused now, at start-up.
            factory.CreateBuilder().Build().Dispose();
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            factory?.Dispose();
            throw new InvalidDataException($"Whisper.net could not load {modelPath} (Models__WhisperModelPath); is it a ggml Whisper model? {error.Message}", error);
        }

        _factory = factory;
        Name = $"whisper.cpp via Whisper.net {typeof(WhisperFactory).Assembly.GetName().Version?.ToString(3)} ({Path.GetFileName(modelPath)})";
    }

    public string Name { get; }

    /// <summary>whisper.cpp spreads one recording over every core already.</summary>
    public int SessionsAtOnce => 1;

    public ISpeechSession StartRecording() => new Session(_factory.CreateBuilder()
        .WithLanguage("en")
        .WithThreads(Math.Max(1, Environment.ProcessorCount))
        .WithProbabilities()
        .Build());

    public void Dispose() => _factory.Dispose();

    private sealed class Session(WhisperProcessor processor) : ISpeechSession
    {
        public IReadOnlyList<RecognizedSegment> Recognize(short[] samples, CancellationToken cancellationToken)
        {
            var audio = new float[samples.Length];
            for (var i = 0; i < samples.Length; i++)
            {
                audio[i] = samples[i] / 32768f;
            }

            // The region is recognised on Whisper.net's own thread; cancelling aborts whisper.cpp between its steps.
            return [.. processor.ProcessAsync(audio, cancellationToken).ToBlockingEnumerable(cancellationToken)
                .Where(segment => !string.IsNullOrWhiteSpace(segment.Text))
                .Select(segment => new RecognizedSegment(segment.Start.TotalSeconds, segment.End.TotalSeconds, segment.Text.Trim(), segment.Probability))];
        }

        public void Dispose() => processor.Dispose();
    }
}
