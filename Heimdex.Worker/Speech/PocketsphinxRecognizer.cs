using System.Runtime.InteropServices;

namespace Heimdex.Worker.Speech;

/// <summary>
/// CMU pocketsphinx (Debian's libpocketsphinx3 with the pocketsphinx-en-us acoustic model, language model and
/// dictionary) through its C API. A decoder is not thread-safe, so calls are serialised; the model loads once.
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

    private readonly Lock _decoderLock = new();
    private readonly IntPtr _config;
    private readonly IntPtr _decoder;

    public PocketsphinxRecognizer(string modelDirectory = DefaultModelDirectory)
    {
        string[] files = [Path.Combine(modelDirectory, "en-us", "mdef"), Path.Combine(modelDirectory, "en-us.lm.bin"), Path.Combine(modelDirectory, "cmudict-en-us.dict")];
        if (files.FirstOrDefault(f => !File.Exists(f)) is { } missing)
        {
            throw new FileNotFoundException($"the pocketsphinx English model file {missing} is missing (Debian package pocketsphinx-en-us).", missing);
        }

        string[] arguments = ["pocketsphinx", "-hmm", Path.Combine(modelDirectory, "en-us"), "-lm", files[1], "-dict", files[2], "-logfn", "/dev/null"];
        var argv = arguments.Select(Marshal.StringToCoTaskMemUTF8).ToArray();
        try
        {
            _config = cmd_ln_parse_r(IntPtr.Zero, ps_args(), argv.Length, argv, strict: 1);
        }
        finally
        {
            Array.ForEach(argv, Marshal.FreeCoTaskMem);
        }

        _decoder = _config == IntPtr.Zero ? IntPtr.Zero : ps_init(_config);
        if (_decoder == IntPtr.Zero)
        {
            throw new InvalidOperationException($"pocketsphinx could not load its model from {modelDirectory}.");
        }

        Name = $"pocketsphinx ({modelDirectory})";
    }

    public string Name { get; }

    public IReadOnlyList<RecognizedSegment> Recognize(short[] samples, CancellationToken cancellationToken)
    {
        List<(string Word, double Start, double End, double Probability)> words = [];
        lock (_decoderLock)
        {
            Check(ps_start_utt(_decoder), "ps_start_utt");
            // Fed in one-second pieces so a cancelled job stops within a second.
            for (var offset = 0; offset < samples.Length; offset += WavFile.SampleRate)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    ps_end_utt(_decoder);
                    cancellationToken.ThrowIfCancellationRequested();
                }

                Check(ps_process_raw(_decoder, ref samples[offset], (nuint)Math.Min(WavFile.SampleRate, samples.Length - offset), 0, 0), "ps_process_raw");
            }

            Check(ps_end_utt(_decoder), "ps_end_utt");
            var logMath = ps_get_logmath(_decoder);
            // Frame numbers run on across utterances; an utterance's first segment (its <s>) starts at its origin.
            int? origin = null;
            for (var segment = ps_seg_iter(_decoder); segment != IntPtr.Zero; segment = ps_seg_next(segment))
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
        }

        return GroupIntoSegments(words);
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

    public void Dispose()
    {
        ps_free(_decoder);
        cmd_ln_free_r(_config);
    }

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
