using Heimdex.Shared.Videos;
using Heimdex.Worker.Lectures;

namespace Heimdex.Tests.Lectures;

public sealed class SlideTimelineTests
{
    private const int Width = 160;
    private const int Height = 90;
    private const double SampleSeconds = 0.5;

    /// <summary>A white slide with dark "lines of text" (bars) where <paramref name="lines"/> says, and camera noise.</summary>
    private static byte[] Slide(Random noise, params (int Left, int Top, int Length)[] lines)
    {
        var frame = new byte[Width * Height];
        for (var i = 0; i < frame.Length; i++)
        {
            frame[i] = (byte)(250 - noise.Next(6));
        }

        foreach (var (left, top, length) in lines)
        {
            for (var y = top; y < top + 4; y++)
            {
                for (var x = left; x < left + length; x += 2)
                {
                    frame[y * Width + x] = 20;
                }
            }
        }

        return frame;
    }

    private static byte[] Blend(byte[] a, byte[] b, double t) => [.. a.Zip(b, (x, y) => (byte)Math.Round(x * (1 - t) + y * t))];

    private static IReadOnlyList<Slide> Run(IEnumerable<byte[]> frames)
    {
        var timeline = new SlideTimeline(Width, Height, SampleSeconds, new SlideTimeline.Settings());
        foreach (var frame in frames)
        {
            timeline.Add(frame);
        }

        return timeline.Slides();
    }

    [Fact]
    public void A_slide_shown_again_is_one_slide_with_both_showings_and_a_cross_fade_is_no_slide()
    {
        var noise = new Random(1);
        (int, int, int)[] a = [(10, 10, 120), (10, 40, 80)];
        (int, int, int)[] b = [(10, 10, 120), (10, 40, 100)]; // the same title, another line: a change in part of the frame
        (int, int, int)[] c = [(30, 20, 60)];
        var frames = new List<byte[]>();
        frames.AddRange(Enumerable.Range(0, 8).Select(_ => Slide(noise, a)));        // 0–4 s
        frames.AddRange(Enumerable.Range(0, 6).Select(_ => Slide(noise, b)));        // 4–7 s
        frames.Add(Blend(Slide(noise, b), Slide(noise, c), 0.5));                    // 7–7.5 s, half way through a fade
        frames.AddRange(Enumerable.Range(0, 6).Select(_ => Slide(noise, c)));        // 7.5–10.5 s
        frames.AddRange(Enumerable.Range(0, 4).Select(_ => Slide(noise, a)));        // 10.5–12.5 s

        var slides = Run(frames);

        Assert.Equal(3, slides.Count);
        Assert.Equal([(0.0, 4.0), (10.5, 12.5)], slides[0].Shown.Select(r => (r.StartSeconds, r.EndSeconds)));
        Assert.Equal([(4.0, 7.0)], slides[1].Shown.Select(r => (r.StartSeconds, r.EndSeconds)));
        Assert.Equal([(7.5, 10.5)], slides[2].Shown.Select(r => (r.StartSeconds, r.EndSeconds)));
        Assert.Equal(2.0, slides[0].PictureSeconds);
    }

    [Fact]
    public void Noise_alone_is_one_slide_and_a_flash_shorter_than_a_still_does_not_split_it()
    {
        var noise = new Random(2);
        (int, int, int)[] a = [(10, 10, 120)];
        var frames = Enumerable.Range(0, 20).Select(_ => Slide(noise, a)).ToList();
        frames[9] = [.. frames[9].Select(_ => (byte)255)];

        var slides = Run(frames);

        Assert.Equal([(0.0, 10.0)], Assert.Single(slides).Shown.Select(r => (r.StartSeconds, r.EndSeconds)));
    }

    [Fact]
    public void Words_belong_to_the_slide_on_screen_when_said_or_else_to_the_nearest_one()
    {
        Slide[] slides = [new(1, [new ShownRange(1, 5), new ShownRange(20, 25)]), new(2, [new ShownRange(6, 12)])];
        SpokenWord[] words =
        [
            new("before", 0, 0.5, 0), new("first", 2, 3, 0), new("trailing", 5.1, 5.5, 0), new("leading", 5.6, 5.9, 1), new("second", 8, 9, 1),
            new("gap", 13, 14, 1), new("again", 21, 22, 2),
        ];

        var said = NotesStage.SaidOver(slides, words);

        Assert.Equal(["before", "first", "trailing", "again"], said[0]);
        Assert.Equal(["leading", "second", "gap"], said[1]);
    }
}
