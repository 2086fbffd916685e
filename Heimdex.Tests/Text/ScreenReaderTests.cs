using Heimdex.Bench;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Heimdex.Worker.Text;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace Heimdex.Tests.Text;

/// <summary>
/// On-screen text follows the screen: read wherever the picture changed, once per distinct picture, each line with
/// the time range it showed. Real captioned videos through ffmpeg and Tesseract, and drawn frames for the rules.
/// </summary>
public sealed class ScreenReaderTests
{
    private const int Width = 320;
    private const int Height = 180;
    private static readonly ScreenReader.Settings Settings = new();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <param name="within">How close each line's start and end must be: a still slide is read where it changes; captions over a moving picture are read a second apart, and Tesseract misses one now and then.</param>
    [Theory]
    [InlineData(ScreenTextVideos.Pan, 1.5)]
    [InlineData(ScreenTextVideos.Slide, 1.0)]
    public async Task Captions_that_change_inside_one_shot_are_each_read_with_the_time_they_showed(string background, double within)
    {
        // Seeds the reader's settings were not tuned on (the bench's are 1-12).
        var seed = Enumerable.Range(401, 100).First(seed => ScreenTextVideos.BackgroundOf(seed) == background);
        var directory = Directory.CreateTempSubdirectory("heimdex-screen-text").FullName;
        try
        {
            var video = await ScreenTextVideos.CaptionedAsync(seed, TestFiles.SharedMedia("faces", "obama_1.jpg"), directory, Cancellation);
            using var ocr = new TesseractOcr();
            var (lines, reader) = await ScreenReader.ReadVideoAsync(new FFmpeg(Options.Create(new PipelineOptions())), video.Path, (video.Width, video.Height), video.Seconds,
                [0], ocr.Read, Settings, seeCompared: null, cores: null, progress: null, Cancellation);

            var score = ScreenTextScore.Of(video.Shown, lines);
            Assert.All(score.Lines, line =>
            {
                var read = Assert.IsType<ScreenLine>(line.Read);
                Assert.InRange(read.StartSeconds, line.Shown.StartSeconds - within, line.Shown.StartSeconds + within);
                Assert.InRange(read.EndSeconds, line.Shown.EndSeconds - within, line.Shown.EndSeconds + within);
            });
            Assert.True(reader.Reads * 2 < reader.SampledSeconds / Settings.SampleSeconds, $"{reader.Reads} reads of {reader.SampledSeconds} s: not every sample");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_picture_that_does_not_change_is_read_once_and_its_lines_last_the_whole_video()
    {
        var (reader, reads) = Reader([0]);
        for (var i = 0; i < 40; i++)
        {
            reader.Add(Slide(1));
        }

        var line = Assert.Single(reader.Finish(20));
        Assert.Equal(("Slide one", 0.0, 20.0), (line.Text, line.StartSeconds, line.EndSeconds));
        Assert.Single(reads);
    }

    [Fact]
    public void New_text_inside_a_scene_is_read_where_it_appears_and_a_picture_read_before_is_not_read_again()
    {
        var (reader, reads) = Reader([0]);
        foreach (var slide in new[] { 1, 2, 1 })
        {
            for (var i = 0; i < 10; i++)
            {
                reader.Add(Slide(slide));
            }
        }

        var lines = reader.Finish(15);
        Assert.Equal([("Slide one", 0.0, 5.0), ("Slide two", 5.0, 10.0), ("Slide one", 10.0, 15.0)], lines.Select(l => (l.Text, l.StartSeconds, l.EndSeconds)));
        Assert.Equal(2, reads.Count);
        Assert.Equal(1, reader.ReadsReused);
    }

    [Fact]
    public void A_cross_fade_is_read_after_it_settles_never_halfway()
    {
        var (reader, reads) = Reader([0]);
        for (var i = 0; i < 6; i++)
        {
            reader.Add(Slide(1));
        }

        foreach (var mix in new[] { 0.25, 0.5, 0.75 })
        {
            reader.Add(Mix(Slide(1), Slide(2), mix));
        }

        for (var i = 0; i < 6; i++)
        {
            reader.Add(Slide(2));
        }

        var lines = reader.Finish(7.5);
        Assert.Equal(["Slide one", "Slide two"], lines.Select(l => l.Text));
        Assert.All(reads, frame => Assert.True(frame[0] is 1 or 2, "a mixed frame was read"));
        Assert.InRange(lines[1].StartSeconds, 3.0, 4.5); // within the fade
    }

    [Fact]
    public void Text_over_moving_pictures_is_read_every_few_seconds_not_every_sample_and_stays_one_line()
    {
        var (reader, reads) = Reader([0]);
        var random = new Random(7);
        for (var i = 0; i < 60; i++)
        {
            reader.Add(Moving(Slide(1), random));
        }

        var line = Assert.Single(reader.Finish(30));
        Assert.Equal(("Slide one", 0.0, 30.0), (line.Text, line.StartSeconds, line.EndSeconds));
        Assert.InRange(reads.Count, 2, 30 / Settings.MaxSettleSeconds + 2);
    }

    [Fact]
    public void A_line_read_in_pieces_or_missed_once_is_still_one_line_from_its_first_sight()
    {
        // What Tesseract makes of a busy picture: the whole line, then pieces, then nothing once, then whole again.
        string[][] reads = [["Aqueduct aq", "ueduct orbit salt"], ["Aqueduct aqueduct orbit salt"], [], ["Aqueduct aqueduct orbit sa1t"], ["Aqueduct aqueduct orb"]];
        var next = 0;
        var reader = new ScreenReader(Width, Height, [0], (_, _, _) => [.. reads[Math.Min(next++, reads.Length - 1)].Select(text => new TextLine(text, 0.9))], Settings);
        var random = new Random(5);
        for (var i = 0; i < 24; i++)
        {
            reader.Add(Moving(Slide(1), random));
        }

        var line = Assert.Single(reader.Finish(12));
        Assert.Equal((0.0, 12.0), (line.StartSeconds, line.EndSeconds));
        Assert.Equal(5, next);
    }

    [Fact]
    public void Each_scene_is_read_even_when_its_picture_never_settles_and_its_text_starts_with_the_scene()
    {
        var (reader, reads) = Reader([0, 5, 6]);
        var random = new Random(3);
        for (var i = 0; i < 16; i++)
        {
            reader.Add(Moving(Slide(i < 10 ? 1 : i < 12 ? 2 : 3), random));
        }

        var lines = reader.Finish(8);
        Assert.Equal([("Slide one", 0.0, 5.0), ("Slide two", 5.0, 6.0), ("Slide three", 6.0, 8.0)], lines.Select(l => (l.Text, l.StartSeconds, l.EndSeconds)));
        Assert.Contains(reads, frame => frame[0] == 2);
    }

    [Fact]
    public void Reads_run_at_once_and_give_the_lines_reading_one_after_another_gives()
    {
        var random = new Random(5);
        var frames = new List<byte[]>();
        foreach (var slide in new[] { 1, 2, 3, 1, 4, 5, 2, 3, 4 })
        {
            frames.AddRange(Enumerable.Range(0, 3).Select(i => slide % 2 == 0 && i > 0 ? Moving(Slide(slide), random) : Slide(slide)));
        }

        (IReadOnlyList<ScreenLine> Lines, int MostAtOnce) ReadAll(int parallelReads)
        {
            var (running, most) = (0, 0);
            using var overlapped = new ManualResetEventSlim();
            var reader = new ScreenReader(Width, Height, [0, 4, 9], (frame, _, _) =>
            {
                var now = Interlocked.Increment(ref running);
                InterlockedMax(ref most, now);
                if (now > 1)
                {
                    overlapped.Set();
                }

                // On a loaded machine the pool may run queued reads one after another for a while; a read that
                // waits for a second one makes the pool add a thread, as a slow OCR read would. Reads that never
                // overlap wait once.
                if (!overlapped.Wait(parallelReads > 1 ? TimeSpan.FromSeconds(10) : TimeSpan.Zero))
                {
                    overlapped.Set();
                }

                Thread.Sleep(40);
                Interlocked.Decrement(ref running);
                return frame[0] is > 0 and < 6 ? [new TextLine($"Slide {Names[frame[0]]}", 0.9)] : [];
            }, Settings, parallelReads);
            frames.ForEach(frame => reader.Add(frame));
            return (reader.Finish(frames.Count * Settings.SampleSeconds), most);
        }

        var (oneByOne, one) = ReadAll(1);
        var (atOnce, most) = ReadAll(3);
        Assert.Equal(1, one);
        Assert.InRange(most, 2, 3);
        Assert.True(oneByOne.Count >= 5, $"{oneByOne.Count} lines");
        Assert.Equal(oneByOne, atOnce);
    }

    [Fact]
    public async Task Tesseract_reads_at_once_each_on_an_engine_of_its_own()
    {
        using var ocr = new TesseractOcr();
        var frames = Names[1..].Select(name => TextFrame($"Parallel reading {name}")).ToList();
        var oneByOne = frames.Select(frame => Texts(ocr.Read(frame, 640, 120))).ToList();
        Assert.All(oneByOne.Zip(Names[1..]), read => Assert.Contains($"reading {read.Second}", read.First, StringComparison.OrdinalIgnoreCase));

        var atOnce = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() => Texts(ocr.Read(frames[i % frames.Count], 640, 120)), Cancellation)));

        Assert.Equal(Enumerable.Range(0, 12).Select(i => oneByOne[i % frames.Count]), atOnce);
        Assert.True(ocr.Engines > 1, $"{ocr.Engines} engine for reads at once");
    }

    private static string Texts(IReadOnlyList<TextLine> lines) => string.Join(" | ", lines.Select(line => line.Text));

    private static void InterlockedMax(ref int most, int value)
    {
        for (var seen = Volatile.Read(ref most); value > seen; seen = Volatile.Read(ref most))
        {
            if (Interlocked.CompareExchange(ref most, value, seen) == seen)
            {
                return;
            }
        }
    }

    /// <summary>Black text on white, 640 × 120 grey bytes.</summary>
    private static byte[] TextFrame(string text)
    {
        using var bitmap = new SKBitmap(640, 120);
        using (var canvas = new SKCanvas(bitmap))
        using (var font = new SKFont(SKTypeface.FromFamilyName("DejaVu Sans"), 40))
        using (var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true })
        {
            canvas.Clear(SKColors.White);
            canvas.DrawText(text, 20, 75, SKTextAlign.Left, font, paint);
        }

        using var grey = bitmap.Copy(SKColorType.Gray8);
        return grey.Bytes;
    }

    private static readonly string[] Names = ["", "one", "two", "three", "four", "five"];

    /// <summary>A reader whose OCR "reads" a drawn slide by its number in the first pixel, recording the frames it was given.</summary>
    private static (ScreenReader Reader, List<byte[]> Reads) Reader(double[] sceneStarts)
    {
        var reads = new List<byte[]>();
        var reader = new ScreenReader(Width, Height, sceneStarts, (frame, width, height) =>
        {
            Assert.Equal((Width, Height), (width, height));
            reads.Add(frame);
            return frame[0] is > 0 and < 6 ? [new TextLine($"Slide {Names[frame[0]]}", 0.9), new TextLine("~ ee", 0.9)] : [];
        }, Settings);
        return (reader, reads);
    }

    /// <summary>A grey slide with a white bar where its text is: each slide's bar is somewhere else.</summary>
    private static byte[] Slide(int number)
    {
        var frame = new byte[Width * Height];
        Array.Fill(frame, (byte)60);
        for (var y = 20 + 25 * number; y < 40 + 25 * number; y++)
        {
            Array.Fill(frame, (byte)230, y * Width + 40, 200);
        }

        frame[0] = (byte)number;
        return frame;
    }

    private static byte[] Mix(byte[] a, byte[] b, double amount)
    {
        var mixed = a.Zip(b, (x, y) => (byte)Math.Round(x * (1 - amount) + y * amount)).ToArray();
        mixed[0] = 0;
        return mixed;
    }

    /// <summary>The slide with its lower half in motion, as if footage played under a caption.</summary>
    private static byte[] Moving(byte[] slide, Random random)
    {
        var frame = (byte[])slide.Clone();
        for (var i = Width * (Height / 2 + 20); i < frame.Length; i++)
        {
            frame[i] = (byte)random.Next(256);
        }

        return frame;
    }
}
