using Heimdex.Bench;
using Heimdex.Worker.Engines;

namespace Heimdex.Tests.Pipeline;

/// <summary>
/// The detector on the shared media with ground truth and on generated decks and cut videos (decoded the way the stage
/// decodes them, 64 px grey), and on frames drawn here, where each case is exactly what it claims to be.
/// </summary>
public sealed class ShotDetectorTests
{
    private const int Width = 64, Height = 36, FrameRate = 25;

    /// <summary>Seeds neither the detector's settings were tuned on nor the benchmark reports.</summary>
    public static TheoryData<int> TestSeeds => [201, 202, 203];

    [Fact]
    public async Task The_hard_cuts_of_testvideo_are_found_within_one_frame_and_its_fades_make_one_boundary_each()
    {
        var (cuts, frames, _, _) = await ShotBenchmark.DetectAsync(TestFiles.TestVideo);

        Assert.Equal(720, frames);
        // ContentDetector's goldens: the cuts into the leaf and into a black card.
        Assert.Contains(cuts, cut => Math.Abs(cut - 30) <= 1);
        Assert.Contains(cuts, cut => Math.Abs(cut - 180) <= 1);
        // The deer fades out to a black card that fades in to the rock (frames 345-420): one boundary, not two.
        Assert.Single(cuts, cut => cut is >= 345 and <= 420);
        // The rock dissolves into the grating (520-560) and the grating fades out (660-700); nothing else is a boundary.
        Assert.Single(cuts, cut => cut is >= 520 and <= 560);
        Assert.All(cuts, cut => Assert.True(cut is <= 31 or (>= 179 and <= 181) or (>= 345 and <= 420) or (>= 520 and <= 560) or (>= 660 and <= 700), $"{cut} in [{string.Join(",", cuts)}]"));
    }

    [Fact]
    public async Task Fades_of_an_empty_screen_are_not_boundaries()
    {
        var (cuts, _, _, _) = await ShotBenchmark.DetectAsync(TestFiles.SharedMedia("video", "fades.mp4"));

        Assert.Empty(cuts);
    }

    [Theory]
    [MemberData(nameof(TestSeeds))]
    public async Task Every_slide_change_of_a_generated_deck_is_one_boundary_at_its_cut_or_in_its_transition(int seed)
    {
        var (score, found) = await DetectGeneratedAsync(ShotVideos.DeckAsync, seed);

        Assert.True(score.Recall == 1 && score.Precision == 1, found);
    }

    [Theory]
    [MemberData(nameof(TestSeeds))]
    public async Task The_cuts_between_moving_pictures_are_found_and_motion_and_flashes_are_not_boundaries(int seed)
    {
        var (score, found) = await DetectGeneratedAsync(ShotVideos.CutsAsync, seed);

        Assert.True(score.CutRecall >= 0.75 && score.Precision >= 0.8, found);
    }

    [Fact]
    public void New_text_on_an_unchanged_background_is_a_cut_at_its_first_frame()
    {
        var slide = Picture(background: 240);
        var next = Picture(background: 240, text: (Row: 4, Columns: 10..40));

        Assert.Equal([50], Detect([.. Repeat(slide, 50), .. Repeat(next, 50)]));
    }

    [Fact]
    public void A_cross_fade_is_one_boundary_in_its_middle()
    {
        var (first, second) = (Picture(background: 30, text: (4, 5..30)), Picture(background: 30, text: (20, 20..60)));

        var cuts = Detect([.. Repeat(first, 50), .. Blend(first, second, 12), .. Repeat(second, 50)]);

        Assert.InRange(Assert.Single(cuts), 50 + 6 - 3, 50 + 6 + 3);
    }

    [Fact]
    public void A_fade_out_a_moment_of_black_and_a_fade_in_are_one_boundary_in_the_black()
    {
        var (first, black, second) = (Picture(background: 200, text: (4, 5..30)), Picture(background: 0), Picture(background: 120, text: (20, 20..60)));

        var cuts = Detect([.. Repeat(first, 50), .. Blend(first, black, 12), .. Repeat(black, 20), .. Blend(black, second, 12), .. Repeat(second, 50)]);

        Assert.InRange(Assert.Single(cuts), 62, 82);
    }

    [Fact]
    public void A_flash_someone_crossing_the_slide_and_a_camera_pan_are_not_boundaries()
    {
        var slide = Picture(background: 240, text: (4, 5..40));
        var flash = Picture(background: 255);
        IEnumerable<byte[]> crossing = Enumerable.Range(0, 40).Select(step => Picture(background: 240, text: (4, 5..40), person: 10 + step));
        IEnumerable<byte[]> pan = Enumerable.Range(0, 60).Select(step => Texture(offset: step));

        Assert.Empty(Detect([.. Repeat(slide, 40), flash, .. Repeat(slide, 40), .. crossing, .. Repeat(crossing.Last(), 40)]));
        Assert.Empty(Detect([.. pan]));
    }

    [Fact]
    public void Cuts_closer_than_the_minimum_scene_length_are_dropped()
    {
        Assert.Equal([30, 180], ShotDetector.WithMinimumLength([30, 40, 180, 715], minFrames: 15, totalFrames: 720));
        Assert.Empty(ShotDetector.WithMinimumLength([5], minFrames: 15, totalFrames: 720));
    }

    private static async Task<(ShotScore Score, string Found)> DetectGeneratedAsync(
        Func<int, ShotSources, string, CancellationToken, Task<GeneratedShots>> make, int seed)
    {
        var video = await make(seed, ShotSources.Shared(TestFiles.SharedMedia("video")), Directory.CreateTempSubdirectory().FullName, TestContext.Current.CancellationToken);
        var (cuts, _, _, _) = await ShotBenchmark.DetectAsync(video.Path);
        return (ShotScore.Of(video.Boundaries, cuts, ShotVideos.FrameRate), $"found [{string.Join(",", cuts)}], made [{video.Described}]");
    }

    private static IReadOnlyList<int> Detect(IEnumerable<byte[]> frames)
    {
        var detector = new ShotDetector(Width, Height, FrameRate, new ShotDetector.Settings());
        foreach (var frame in frames)
        {
            detector.Add(frame);
        }

        return detector.Cuts();
    }

    /// <summary>A flat background, a line of "text" (every third pixel black or white, whichever stands out) and a "person" (a dark box) at a column.</summary>
    private static byte[] Picture(byte background, (int Row, Range Columns)? text = null, int? person = null)
    {
        var frame = Enumerable.Repeat(background, Width * Height).ToArray();
        if (text is var (row, columns))
        {
            var (start, length) = columns.GetOffsetAndLength(Width);
            for (var x = start; x < start + length; x++)
            {
                for (var y = row; y < row + 2; y++)
                {
                    frame[y * Width + x] = (byte)((x + y) % 3 == 0 ? (background > 127 ? 0 : 255) : background);
                }
            }
        }

        if (person is { } left)
        {
            for (var y = 14; y < Height; y++)
            {
                for (var x = left; x < left + 10; x++)
                {
                    frame[y * Width + x] = 40;
                }
            }
        }

        return frame;
    }

    /// <summary>A smooth texture, moved <paramref name="offset"/> pixels: a camera panning over a scene.</summary>
    private static byte[] Texture(int offset) =>
        [.. Enumerable.Range(0, Width * Height).Select(i => (byte)(128 + 100 * Math.Sin((i % Width + offset) / 5.0) * Math.Cos(i / Width / 4.0)))];

    private static IEnumerable<byte[]> Repeat(byte[] frame, int count) => Enumerable.Repeat(frame, count);

    private static IEnumerable<byte[]> Blend(byte[] from, byte[] to, int frames) =>
        Enumerable.Range(1, frames).Select(step => from.Zip(to, (a, b) => (byte)Math.Round(a + (b - a) * step / (frames + 1.0))).ToArray());
}
