using System.Runtime.InteropServices;

namespace Heimdex.Worker.Speech;

/// <summary>
/// CMU pocketsphinx (Debian's libpocketsphinx3 with the pocketsphinx-en-us acoustic model, language model and
/// dictionary) through its C API. A decoder adapts its noise and cepstral-mean estimates to everything it hears, so
/// each recording gets a decoder of its own (about half a second to load): a video's transcript then depends on that
/// video alone, not on what the worker heard before it. A region is decoded as one utterance, which lets the model's
/// batch cepstral-mean normalisation see all of it (a third fewer word errors than feeding it piece by piece).
/// </summary>
public sealed partial class PocketsphinxRecognizer : ISpeechRecognizer, IDisposable
{
    public const string DefaultModelDirectory = "/usr/share/pocketsphinx/model/en-us";
    private const string Library = "libpocketsphinx.so.3";
    private const string SphinxBase = "libsphinxbase.so.3";
    private const double FramesPerSecond = 100;

    /// <summary>Words split into separate segments at a silence this long, and segments are kept short enough to read.</summary>
    private const double SegmentPauseSeconds = 0.3;
    private const double MaxSegmentSeconds = 12;

    /// <summary>
    /// The most HMMs the search keeps alive per frame (pocketsphinx's default is 30,000). `bench -- speech`: at 5,000
    /// the shared clips decode in 0.16 of their length instead of 0.22, at 44–45 % word errors either way; lower (3,000,
    /// 2,000) is faster still but errs more.
    /// </summary>
    private const string MaxHmmsPerFrame = "5000";

    /// <summary>Decoders share the parsed configuration, whose reference count is not atomic.</summary>
    private readonly Lock _configLock = new();
    private readonly IntPtr _config;
    private readonly string _modelDirectory;

    public PocketsphinxRecognizer(string modelDirectory = DefaultModelDirectory)
    {
        string[] files = [Path.Combine(modelDirectory, "en-us", "mdef"), Path.Combine(modelDirectory, "en-us.lm.bin"), Path.Combine(modelDirectory, "cmudict-en-us.dict")];
        if (files.FirstOrDefault(f => !File.Exists(f)) is { } missing)
        {
            throw new FileNotFoundException($"the pocketsphinx English model file {missing} is missing (Debian package pocketsphinx-en-us).", missing);
        }

        string[] arguments = ["pocketsphinx", "-hmm", Path.Combine(modelDirectory, "en-us"), "-lm", files[1], "-dict", files[2], "-logfn", "/dev/null", "-maxhmmpf", MaxHmmsPerFrame];
        var argv = arguments.Select(Marshal.StringToCoTaskMemUTF8).ToArray();
        try
        {
            _config = cmd_ln_parse_r(IntPtr.Zero, ps_args(), argv.Length, argv, strict: 1);
        }
        finally
        {
            Array.ForEach(argv, Marshal.FreeCoTaskMem);
        }

        _modelDirectory = modelDirectory;
        // Loaded once here so that a worker whose model cannot load refuses to start.
        StartRecording().Dispose();
        Name = $"pocketsphinx ({modelDirectory})";
    }

    public string Name { get; }

    /// <summary>A decoder runs on one thread: one per core.</summary>
    public int SessionsAtOnce => Environment.ProcessorCount;

    public ISpeechSession StartRecording()
    {
        lock (_configLock)
        {
            var decoder = _config == IntPtr.Zero ? IntPtr.Zero : ps_init(_config);
            return decoder == IntPtr.Zero
                ? throw new InvalidOperationException($"pocketsphinx could not load its model from {_modelDirectory}.")
                : new Session(this, decoder);
        }
    }

    private sealed class Session(PocketsphinxRecognizer owner, IntPtr decoder) : ISpeechSession
    {
        /// <summary>Regions are at most <see cref="VoiceActivity.Settings.MaxRegionSeconds"/> long, so a cancelled job stops within seconds.</summary>
        public IReadOnlyList<RecognizedSegment> Recognize(short[] samples, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            List<(string Word, double Start, double End, double Probability)> words = [];
            Check(ps_start_utt(decoder), "ps_start_utt");
            if (samples.Length > 0)
            {
                Check(ps_process_raw(decoder, ref samples[0], (nuint)samples.Length, 0, fullUtterance: 1), "ps_process_raw");
            }

            Check(ps_end_utt(decoder), "ps_end_utt");
            var logMath = ps_get_logmath(decoder);
            // Frame numbers run on across utterances; an utterance's first segment (its <s>) starts at its origin.
            int? origin = null;
            for (var segment = ps_seg_iter(decoder); segment != IntPtr.Zero; segment = ps_seg_next(segment))
            {
                var word = Marshal.PtrToStringUTF8(ps_seg_word(segment)) ?? "";
                ps_seg_frames(segment, out var startFrame, out var endFrame);
                origin ??= startFrame;
                var probability = logmath_exp(logMath, ps_seg_prob(segment, out _, out _, out _));
                if (SpokenWord(word) is { } spoken)
                {
                    words.Add((spoken, (startFrame - origin.Value) / FramesPerSecond, (endFrame + 1 - origin.Value) / FramesPerSecond, probability));
                }
            }

            return GroupIntoSegments(words);
        }

        public void Dispose()
        {
            lock (owner._configLock)
            {
                ps_free(decoder);
            }
        }
    }

    /// <summary>The dictionary word without its pronunciation variant ("read(2)"); null for silence, sentence marks and noise.</summary>
    private static string? SpokenWord(string word)
    {
        if (word.StartsWith('<') || word.StartsWith('[') || word.Length == 0)
        {
            return null;
        }

        var variant = word.IndexOf('(');
        return variant > 0 ? word[..variant] : word;
    }

    private static List<RecognizedSegment> GroupIntoSegments(List<(string Word, double Start, double End, double Probability)> words)
    {
        var segments = new List<RecognizedSegment>();
        var current = new List<(string Word, double Start, double End, double Probability)>();
        foreach (var word in words)
        {
            if (current.Count > 0 && (word.Start - current[^1].End >= SegmentPauseSeconds || word.End - current[0].Start > MaxSegmentSeconds))
            {
                segments.Add(ToSegment(current));
                current = [];
            }

            current.Add(word);
        }

        if (current.Count > 0)
        {
            segments.Add(ToSegment(current));
        }

        return segments;

        static RecognizedSegment ToSegment(List<(string Word, double Start, double End, double Probability)> words) =>
            new(words[0].Start, words[^1].End, string.Join(' ', words.Select(w => w.Word)), words.Average(w => w.Probability));
    }

    private static void Check(int result, string function)
    {
        if (result < 0)
        {
            throw new InvalidOperationException($"pocketsphinx {function} failed ({result}).");
        }
    }

    public void Dispose() => cmd_ln_free_r(_config);

    [LibraryImport(Library)]
    private static partial IntPtr ps_args();

    [LibraryImport(SphinxBase)]
    private static partial IntPtr cmd_ln_parse_r(IntPtr inoutConfig, IntPtr definitions, int argc, IntPtr[] argv, int strict);

    [LibraryImport(SphinxBase)]
    private static partial int cmd_ln_free_r(IntPtr config);

    [LibraryImport(SphinxBase)]
    private static partial double logmath_exp(IntPtr logMath, int logValue);

    [LibraryImport(Library)]
    private static partial IntPtr ps_init(IntPtr config);

    [LibraryImport(Library)]
    private static partial int ps_free(IntPtr decoder);

    [LibraryImport(Library)]
    private static partial int ps_start_utt(IntPtr decoder);

    [LibraryImport(Library)]
    private static partial int ps_process_raw(IntPtr decoder, ref short samples, nuint count, int noSearch, int fullUtterance);

    [LibraryImport(Library)]
    private static partial int ps_end_utt(IntPtr decoder);

    [LibraryImport(Library)]
    private static partial IntPtr ps_get_logmath(IntPtr decoder);

    [LibraryImport(Library)]
    private static partial IntPtr ps_seg_iter(IntPtr decoder);

    [LibraryImport(Library)]
    private static partial IntPtr ps_seg_next(IntPtr segment);

    [LibraryImport(Library)]
    private static partial IntPtr ps_seg_word(IntPtr segment);

    [LibraryImport(Library)]
    private static partial void ps_seg_frames(IntPtr segment, out int startFrame, out int endFrame);

    [LibraryImport(Library)]
    private static partial int ps_seg_prob(IntPtr segment, out int acousticScore, out int languageScore, out int languageBackoff);
}
