using System.Globalization;
using PdfSharp.Drawing;
using PdfSharp.Fonts;
using PdfSharp.Pdf;

namespace Heimdex.Worker.Lectures;

/// <summary>One slide's page of the notes: its picture (a JPEG), the lines read on it and what was said while it was shown.</summary>
public sealed record NotesPage(Slide Slide, string? PicturePath, IReadOnlyList<string> OnScreen, string Said);

/// <summary>
/// Lecture notes as a PDF: an A4 landscape page per slide with the slide's picture, the time ranges it was shown, its
/// on-screen text and the transcript said over it, all as real text (embedded DejaVu Sans) so it can be selected and
/// searched. Text flows beside the picture, then under it, then onto a continuation page, so nothing is cut off.
/// </summary>
public static class LectureNotesPdf
{
    public const string FontDirectory = "/usr/share/fonts/truetype/dejavu";
    private const string FontFamily = "DejaVu Sans";
    private const string RegularFace = "DejaVuSans";
    private const string BoldFace = "DejaVuSans-Bold";
    private const double Margin = 36;
    private const double Gap = 18;

    private static readonly Lock FontsLock = new();

    /// <summary>The font files the notes are written in (Debian's fonts-dejavu-core), each missing one in words.</summary>
    public static IEnumerable<string> FindProblems() =>
        new[] { RegularFace, BoldFace }.Select(FontFile).Where(path => !File.Exists(path))
            .Select(path => $"the font {path} for lecture notes (Debian package fonts-dejavu-core)");

    public static void Write(string title, IReadOnlyList<NotesPage> pages, Stream output)
    {
        UseDejaVuFonts();
        using var document = new PdfDocument();
        document.Info.Title = title;
        document.Info.Subject = "Lecture notes: slides and what was said over them";
        document.Info.Creator = "Heimdex";
        var heading = new XFont(FontFamily, 16, XFontStyleEx.Bold);
        var label = new XFont(FontFamily, 11, XFontStyleEx.Bold);
        var body = new XFont(FontFamily, 10, XFontStyleEx.Regular);

        foreach (var page in pages)
        {
            using var flow = new TextFlow(document, $"Slide {page.Slide.Number} of {pages.Count} (continued)", heading);
            var (graphics, size) = (flow.Graphics, flow.PageSize);
            var top = Margin;
            graphics.DrawString($"Slide {page.Slide.Number} of {pages.Count}", heading, XBrushes.Black, new XPoint(Margin, top), XStringFormats.TopLeft);
            top += heading.GetHeight();
            graphics.DrawString($"Shown {string.Join(", ", page.Slide.Shown.Select(r => $"{Clock(r.StartSeconds)}–{Clock(r.EndSeconds)}"))}  ·  {title}",
                body, XBrushes.DimGray, new XPoint(Margin, top), XStringFormats.TopLeft);
            top += body.GetHeight() + Gap / 2;

            var contentWidth = size.Width - 2 * Margin;
            var pictureWidth = contentWidth * 0.6;
            var pictureBottom = top;
            if (page.PicturePath is not null)
            {
                using var picture = XImage.FromFile(page.PicturePath);
                var pictureHeight = Math.Min(pictureWidth * picture.PixelHeight / picture.PixelWidth, size.Height * 0.55);
                var width = pictureHeight * picture.PixelWidth / picture.PixelHeight;
                graphics.DrawImage(picture, Margin, top, width, pictureHeight);
                graphics.DrawRectangle(XPens.LightGray, Margin, top, width, pictureHeight);
                pictureBottom = top + pictureHeight;
                flow.AddFrame(new XRect(Margin + pictureWidth + Gap, top, contentWidth - pictureWidth - Gap, pictureHeight));
            }

            flow.AddFrame(new XRect(Margin, pictureBottom + Gap, contentWidth, size.Height - Margin - pictureBottom - Gap));
            flow.Paragraph("On screen", label);
            foreach (var line in page.OnScreen.DefaultIfEmpty("(no text was read on this slide)"))
            {
                flow.Paragraph(line, body);
            }

            flow.Space(Gap / 2);
            flow.Paragraph("Said", label);
            flow.Paragraph(page.Said.Length > 0 ? page.Said : "(nothing was said while this slide was shown)", body);
        }

        document.Save(output, closeStream: false);
    }

    /// <summary><c>m:ss</c>, or <c>h:mm:ss</c> from an hour on.</summary>
    public static string Clock(double seconds)
    {
        var time = TimeSpan.FromSeconds(Math.Floor(Math.Max(0, seconds)));
        return time.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)time.TotalHours}:{time.Minutes:00}:{time.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{time.Minutes}:{time.Seconds:00}");
    }

    /// <summary>
    /// Word-wrapped text poured into rectangles in turn; when they are full, a new page continues it. Each line is
    /// fitted to the width of the rectangle it lands in, since the one beside the picture is narrower than the next.
    /// </summary>
    private sealed class TextFlow : IDisposable
    {
        private readonly PdfDocument _document;
        private readonly string _continuedTitle;
        private readonly XFont _continuedFont;
        private readonly Queue<XRect> _frames = new();
        private XRect _frame = XRect.Empty;
        private double _y;

        public TextFlow(PdfDocument document, string continuedTitle, XFont continuedFont)
        {
            (_document, _continuedTitle, _continuedFont) = (document, continuedTitle, continuedFont);
            (Graphics, PageSize) = NewPage();
        }

        public XGraphics Graphics { get; private set; }

        public XSize PageSize { get; private set; }

        public void Dispose() => Graphics.Dispose();

        public void AddFrame(XRect frame) => _frames.Enqueue(frame);

        public void Space(double height) => _y += height;

        public void Paragraph(string text, XFont font)
        {
            var words = new Queue<string>(text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            while (words.Count > 0)
            {
                var height = font.GetHeight();
                if (_frame.IsEmpty || _y + height > _frame.Bottom)
                {
                    NextFrame(height);
                }

                var line = TakeLine(words, font, _frame.Width);
                Graphics.DrawString(line, font, XBrushes.Black, new XPoint(_frame.Left, _y), XStringFormats.TopLeft);
                _y += height;
            }
        }

        private string TakeLine(Queue<string> words, XFont font, double width)
        {
            var line = words.Dequeue();
            if (Graphics.MeasureString(line, font).Width > width)
            {
                // a word wider than the column (a URL, a long formula) is split where it no longer fits
                var fits = Enumerable.Range(1, line.Length - 1).LastOrDefault(n => Graphics.MeasureString(line[..n], font).Width <= width, 1);
                var rest = line[fits..];
                var remaining = words.ToArray();
                words.Clear();
                foreach (var word in rest.Length > 0 ? remaining.Prepend(rest) : remaining)
                {
                    words.Enqueue(word);
                }

                return line[..fits];
            }

            while (words.Count > 0 && Graphics.MeasureString(line + " " + words.Peek(), font).Width <= width)
            {
                line += " " + words.Dequeue();
            }

            return line;
        }

        private void NextFrame(double lineHeight)
        {
            while (_frames.TryDequeue(out var frame))
            {
                if (frame.Height >= lineHeight && frame.Width > 0)
                {
                    (_frame, _y) = (frame, frame.Top);
                    return;
                }
            }

            Graphics.Dispose();
            (Graphics, PageSize) = NewPage();
            Graphics.DrawString(_continuedTitle, _continuedFont, XBrushes.Black, new XPoint(Margin, Margin), XStringFormats.TopLeft);
            var top = Margin + _continuedFont.GetHeight() + Gap / 2;
            (_frame, _y) = (new XRect(Margin, top, PageSize.Width - 2 * Margin, PageSize.Height - Margin - top), top);
        }

        private (XGraphics, XSize) NewPage()
        {
            var page = _document.AddPage();
            page.Size = PdfSharp.PageSize.A4;
            page.Orientation = PdfSharp.PageOrientation.Landscape;
            return (XGraphics.FromPdfPage(page), new XSize(page.Width.Point, page.Height.Point));
        }
    }

    private static string FontFile(string face) => Path.Combine(FontDirectory, face + ".ttf");

    /// <summary>PdfSharp finds no fonts on Linux by itself; its resolver is process-wide and may be set only once.</summary>
    private static void UseDejaVuFonts()
    {
        lock (FontsLock)
        {
            GlobalFontSettings.FontResolver ??= new DejaVuFonts();
        }
    }

    private sealed class DejaVuFonts : IFontResolver
    {
        public FontResolverInfo? ResolveTypeface(string familyName, bool bold, bool italic) => new(bold ? BoldFace : RegularFace);

        public byte[]? GetFont(string faceName) => File.ReadAllBytes(FontFile(faceName));
    }
}
