using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace Heimdex.Worker.Text;

/// <summary>
/// Tesseract 5 (Debian's libtesseract5 with tesseract-ocr-eng) through its C API. One engine handle is not
/// thread-safe, so each read takes an engine no other read is using: reads at once each get their own, and engines
/// are kept for the next reads (as many as were ever needed at once, each loading the language model).
/// </summary>
public sealed partial class TesseractOcr : IDisposable
{
    public const string DefaultDataDirectory = "/usr/share/tesseract-ocr/5/tessdata";
    private const string Library = "libtesseract.so.5";
    private const int SparseTextSegmentation = 11; // PSM_SPARSE_TEXT: slides and captions, not book pages
    private const int TextLineLevel = 2; // RIL_TEXTLINE

    private readonly ConcurrentBag<IntPtr> _idle = [];
    private readonly ConcurrentQueue<IntPtr> _engines = new();
    private readonly string _dataDirectory;
    private readonly string _language;

    public TesseractOcr(string dataDirectory = DefaultDataDirectory, string language = "eng")
    {
        var model = Path.Combine(dataDirectory, language + ".traineddata");
        if (!File.Exists(model))
        {
            throw new FileNotFoundException($"the Tesseract language model {model} is missing (Debian package tesseract-ocr-{language}).", model);
        }

        (_dataDirectory, _language) = (dataDirectory, language);
        _idle.Add(NewEngine()); // loaded here so that a worker whose model cannot load refuses to start
        Name = $"tesseract {Marshal.PtrToStringUTF8(TessVersion())} ({language})";
    }

    /// <summary>Engines made so far: the most reads that ran at once.</summary>
    public int Engines => _engines.Count;

    private IntPtr NewEngine()
    {
        var engine = TessBaseAPICreate();
        if (TessBaseAPIInit3(engine, _dataDirectory, _language) != 0)
        {
            TessBaseAPIDelete(engine);
            throw new InvalidOperationException($"Tesseract could not load {Path.Combine(_dataDirectory, _language + ".traineddata")}.");
        }

        TessBaseAPISetPageSegMode(engine, SparseTextSegmentation);
        _engines.Enqueue(engine);
        return engine;
    }

    public string Name { get; }

    /// <summary>The lines Tesseract reads in an image file (JPEG, PNG, WebP), each as one string.</summary>
    public IReadOnlyList<TextLine> Read(string imagePath)
    {
        using var image = SKBitmap.Decode(imagePath) ?? throw new InvalidDataException($"{imagePath} is not an image this worker can decode.");
        using var grey = image.Copy(SKColorType.Gray8) ?? throw new InvalidDataException($"{imagePath} could not be converted to grey.");
        return Read(grey.GetPixels(), grey.Width, grey.Height, grey.RowBytes);
    }

    /// <summary>The lines Tesseract reads in a grey frame of <paramref name="width"/> × <paramref name="height"/> bytes.</summary>
    public unsafe IReadOnlyList<TextLine> Read(byte[] grey, int width, int height)
    {
        fixed (byte* pixels = grey)
        {
            return Read((IntPtr)pixels, width, height, width);
        }
    }

    private List<TextLine> Read(IntPtr pixels, int width, int height, int rowBytes)
    {
        var lines = new List<TextLine>();
        var engine = _idle.TryTake(out var idle) ? idle : NewEngine();
        try
        {
            TessBaseAPISetImage(engine, pixels, width, height, 1, rowBytes);
            TessBaseAPISetSourceResolution(engine, 72);
            if (TessBaseAPIRecognize(engine, IntPtr.Zero) != 0)
            {
                throw new InvalidOperationException($"Tesseract failed to read a {width}×{height} picture.");
            }

            var iterator = TessBaseAPIGetIterator(engine);
            if (iterator != IntPtr.Zero)
            {
                try
                {
                    do
                    {
                        var text = TessResultIteratorGetUTF8Text(iterator, TextLineLevel);
                        if (text != IntPtr.Zero)
                        {
                            lines.Add(new TextLine(Marshal.PtrToStringUTF8(text)!.Trim(), TessResultIteratorConfidence(iterator, TextLineLevel) / 100));
                            TessDeleteText(text);
                        }
                    }
                    while (TessResultIteratorNext(iterator, TextLineLevel) != 0);
                }
                finally
                {
                    TessResultIteratorDelete(iterator);
                }
            }

            TessBaseAPIClear(engine);
        }
        finally
        {
            _idle.Add(engine);
        }

        return [.. lines.Where(line => line.Text.Length > 0)];
    }

    public void Dispose()
    {
        while (_engines.TryDequeue(out var engine))
        {
            TessBaseAPIEnd(engine);
            TessBaseAPIDelete(engine);
        }
    }

    [LibraryImport(Library)]
    private static partial IntPtr TessVersion();

    [LibraryImport(Library)]
    private static partial IntPtr TessBaseAPICreate();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int TessBaseAPIInit3(IntPtr engine, string dataPath, string language);

    [LibraryImport(Library)]
    private static partial void TessBaseAPISetPageSegMode(IntPtr engine, int mode);

    [LibraryImport(Library)]
    private static partial void TessBaseAPISetImage(IntPtr engine, IntPtr pixels, int width, int height, int bytesPerPixel, int bytesPerLine);

    [LibraryImport(Library)]
    private static partial void TessBaseAPISetSourceResolution(IntPtr engine, int pixelsPerInch);

    [LibraryImport(Library)]
    private static partial int TessBaseAPIRecognize(IntPtr engine, IntPtr monitor);

    [LibraryImport(Library)]
    private static partial IntPtr TessBaseAPIGetIterator(IntPtr engine);

    [LibraryImport(Library)]
    private static partial IntPtr TessResultIteratorGetUTF8Text(IntPtr iterator, int level);

    [LibraryImport(Library)]
    private static partial float TessResultIteratorConfidence(IntPtr iterator, int level);

    [LibraryImport(Library)]
    private static partial int TessResultIteratorNext(IntPtr iterator, int level);

    [LibraryImport(Library)]
    private static partial void TessResultIteratorDelete(IntPtr iterator);

    [LibraryImport(Library)]
    private static partial void TessDeleteText(IntPtr text);

    [LibraryImport(Library)]
    private static partial void TessBaseAPIClear(IntPtr engine);

    [LibraryImport(Library)]
    private static partial void TessBaseAPIEnd(IntPtr engine);

    [LibraryImport(Library)]
    private static partial void TessBaseAPIDelete(IntPtr engine);
}
