using System.Runtime.InteropServices;

namespace Heimdex.Worker.Speech;

/// <summary>
/// whisper.cpp through its C API, from any libwhisper (by default the whisper.cpp 1.9.3 build in the model cache's
/// @fugood/node-whisper-linux-x64 package) with a ggml model the user brings. whisper_full takes its parameters by
/// value; the struct is copied from whisper_full_default_params_by_ref as opaque bytes, and only the leading fields,
/// whose offsets whisper.cpp has kept since 1.0, are changed.
/// </summary>
public sealed unsafe class WhisperRecognizer : ISpeechRecognizer, IDisposable
{
    private const int FullParamsSize = 0x130; // sizeof(struct whisper_full_params) in whisper.cpp 1.9.x
    private const int ThreadsOffset = 4;
    private const int PrintProgressOffset = 25;
    private const int PrintRealtimeOffset = 26;
    private const int PrintTimestampsOffset = 27;
    private const int GreedySampling = 0;

    private readonly Lock _contextLock = new();
    private readonly IntPtr _library;
    private readonly IntPtr _context;
    private readonly Api _api;

    public WhisperRecognizer(string libraryPath, string modelPath)
    {
        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"the Whisper model {modelPath} (Models__WhisperModelPath) does not exist; download a ggml model such as ggml-base.en.bin there, or unset it to use pocketsphinx.", modelPath);
        }

        if (!File.Exists(libraryPath))
        {
            throw new FileNotFoundException($"the whisper.cpp library {libraryPath} does not exist.", libraryPath);
        }

        _library = NativeLibrary.Load(libraryPath);
        _api = new Api(_library);
        if (_api.Version() is var version && !version.StartsWith("1.", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{libraryPath} is whisper.cpp {version}; Heimdex binds the 1.x C API.");
        }

        _api.SetLog(&IgnoreLog, IntPtr.Zero);
        var contextParams = _api.ContextDefaultParamsByRef();
        var model = Marshal.StringToCoTaskMemUTF8(modelPath);
        try
        {
            _context = _api.InitFromFileWithParams(model, *(ContextParams*)contextParams);
        }
        finally
        {
            Marshal.FreeCoTaskMem(model);
            _api.FreeContextParams(contextParams);
        }

        if (_context == IntPtr.Zero)
        {
            throw new InvalidDataException($"whisper.cpp could not load {modelPath}; is it a ggml Whisper model?");
        }

        Name = $"whisper.cpp {_api.Version()} ({Path.GetFileName(modelPath)})";
    }

    public string Name { get; }

    /// <summary>whisper.cpp keeps nothing from one call to the next, so every recording shares the loaded model.</summary>
    public ISpeechSession StartRecording() => new Session(this);

    public IReadOnlyList<RecognizedSegment> Recognize(short[] samples, CancellationToken cancellationToken)
    {
        var audio = new float[samples.Length];
        for (var i = 0; i < samples.Length; i++)
        {
            audio[i] = samples[i] / 32768f;
        }

        var byRef = _api.FullDefaultParamsByRef(GreedySampling);
        FullParams parameters;
        try
        {
            parameters = *(FullParams*)byRef;
        }
        finally
        {
            _api.FreeParams(byRef);
        }

        var bytes = (byte*)&parameters;
        *(int*)(bytes + ThreadsOffset) = Math.Max(1, Environment.ProcessorCount);
        bytes[PrintProgressOffset] = bytes[PrintRealtimeOffset] = bytes[PrintTimestampsOffset] = 0;

        lock (_contextLock)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int result;
            fixed (float* pcm = audio)
            {
                result = _api.Full(_context, parameters, pcm, audio.Length);
            }

            if (result != 0)
            {
                throw new InvalidOperationException($"whisper_full failed ({result}).");
            }

            var segments = new List<RecognizedSegment>();
            for (var segment = 0; segment < _api.SegmentCount(_context); segment++)
            {
                var text = Marshal.PtrToStringUTF8(_api.SegmentText(_context, segment))?.Trim();
                var tokens = _api.TokenCount(_context, segment);
                if (string.IsNullOrEmpty(text))
                {
                    continue;
                }

                var confidence = tokens == 0 ? 0 : Enumerable.Range(0, tokens).Average(token => _api.TokenProbability(_context, segment, token));
                // whisper.cpp times are in hundredths of a second.
                segments.Add(new RecognizedSegment(_api.SegmentStart(_context, segment) / 100.0, _api.SegmentEnd(_context, segment) / 100.0, text, confidence));
            }

            return segments;
        }
    }

    public void Dispose()
    {
        if (_context != IntPtr.Zero)
        {
            _api.Free(_context);
        }

        NativeLibrary.Free(_library);
    }

    private sealed class Session(WhisperRecognizer model) : ISpeechSession
    {
        public IReadOnlyList<RecognizedSegment> Recognize(short[] samples, CancellationToken cancellationToken) => model.Recognize(samples, cancellationToken);

        public void Dispose()
        {
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    private static void IgnoreLog(int level, byte* text, IntPtr userData)
    {
    }

    [StructLayout(LayoutKind.Sequential, Size = FullParamsSize)]
    private struct FullParams
    {
        private byte _first;
    }

    [StructLayout(LayoutKind.Sequential, Size = 0x30)]
    private struct ContextParams
    {
        private byte _first;
    }

    /// <summary>The functions Heimdex calls, resolved from whichever library was loaded.</summary>
    private sealed class Api(IntPtr library)
    {
        private readonly delegate* unmanaged<IntPtr> _version = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(library, "whisper_version");
        private readonly delegate* unmanaged<delegate* unmanaged[Cdecl]<int, byte*, IntPtr, void>, IntPtr, void> _logSet =
            (delegate* unmanaged<delegate* unmanaged[Cdecl]<int, byte*, IntPtr, void>, IntPtr, void>)NativeLibrary.GetExport(library, "whisper_log_set");
        private readonly delegate* unmanaged<IntPtr> _contextDefaults = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(library, "whisper_context_default_params_by_ref");
        private readonly delegate* unmanaged<IntPtr, void> _freeContextParams = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(library, "whisper_free_context_params");
        private readonly delegate* unmanaged<IntPtr, ContextParams, IntPtr> _init = (delegate* unmanaged<IntPtr, ContextParams, IntPtr>)NativeLibrary.GetExport(library, "whisper_init_from_file_with_params");
        private readonly delegate* unmanaged<int, IntPtr> _fullDefaults = (delegate* unmanaged<int, IntPtr>)NativeLibrary.GetExport(library, "whisper_full_default_params_by_ref");
        private readonly delegate* unmanaged<IntPtr, void> _freeParams = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(library, "whisper_free_params");
        private readonly delegate* unmanaged<IntPtr, FullParams, float*, int, int> _full = (delegate* unmanaged<IntPtr, FullParams, float*, int, int>)NativeLibrary.GetExport(library, "whisper_full");
        private readonly delegate* unmanaged<IntPtr, int> _segments = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "whisper_full_n_segments");
        private readonly delegate* unmanaged<IntPtr, int, IntPtr> _segmentText = (delegate* unmanaged<IntPtr, int, IntPtr>)NativeLibrary.GetExport(library, "whisper_full_get_segment_text");
        private readonly delegate* unmanaged<IntPtr, int, long> _segmentStart = (delegate* unmanaged<IntPtr, int, long>)NativeLibrary.GetExport(library, "whisper_full_get_segment_t0");
        private readonly delegate* unmanaged<IntPtr, int, long> _segmentEnd = (delegate* unmanaged<IntPtr, int, long>)NativeLibrary.GetExport(library, "whisper_full_get_segment_t1");
        private readonly delegate* unmanaged<IntPtr, int, int> _tokens = (delegate* unmanaged<IntPtr, int, int>)NativeLibrary.GetExport(library, "whisper_full_n_tokens");
        private readonly delegate* unmanaged<IntPtr, int, int, float> _tokenP = (delegate* unmanaged<IntPtr, int, int, float>)NativeLibrary.GetExport(library, "whisper_full_get_token_p");
        private readonly delegate* unmanaged<IntPtr, void> _free = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(library, "whisper_free");

        public string Version() => Marshal.PtrToStringUTF8(_version()) ?? "";

        public void SetLog(delegate* unmanaged[Cdecl]<int, byte*, IntPtr, void> callback, IntPtr userData) => _logSet(callback, userData);

        public IntPtr ContextDefaultParamsByRef() => _contextDefaults();

        public void FreeContextParams(IntPtr parameters) => _freeContextParams(parameters);

        public IntPtr InitFromFileWithParams(IntPtr path, ContextParams parameters) => _init(path, parameters);

        public IntPtr FullDefaultParamsByRef(int strategy) => _fullDefaults(strategy);

        public void FreeParams(IntPtr parameters) => _freeParams(parameters);

        public int Full(IntPtr context, FullParams parameters, float* samples, int count) => _full(context, parameters, samples, count);

        public int SegmentCount(IntPtr context) => _segments(context);

        public IntPtr SegmentText(IntPtr context, int segment) => _segmentText(context, segment);

        public long SegmentStart(IntPtr context, int segment) => _segmentStart(context, segment);

        public long SegmentEnd(IntPtr context, int segment) => _segmentEnd(context, segment);

        public int TokenCount(IntPtr context, int segment) => _tokens(context, segment);

        public float TokenProbability(IntPtr context, int segment, int token) => _tokenP(context, segment, token);

        public void Free(IntPtr context) => _free(context);
    }
}
