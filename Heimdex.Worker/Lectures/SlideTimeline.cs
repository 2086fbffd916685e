using Heimdex.Worker.Engines;

namespace Heimdex.Worker.Lectures;

/// <summary>A stretch of the video during which one slide was on screen.</summary>
public sealed record ShownRange(double StartSeconds, double EndSeconds)
{
    public double Seconds => EndSeconds - StartSeconds;

    public bool Contains(double seconds) => seconds >= StartSeconds && seconds < EndSeconds;

    public double DistanceTo(double seconds) => seconds < StartSeconds ? StartSeconds - seconds : Math.Max(0, seconds - EndSeconds);
}

/// <summary>A distinct slide: every range it was shown in, and the moment its picture is best taken (the middle of its longest showing).</summary>
public sealed record Slide(int Number, IReadOnlyList<ShownRange> Shown)
{
    public double PictureSeconds => Shown.MaxBy(r => r.Seconds) is { } longest ? (longest.StartSeconds + longest.EndSeconds) / 2 : 0;
}

/// <summary>
/// Finds the slides of a lecture in small grey frames sampled at a fixed rate. The picture is compared block by block
/// with the first frame of the current still, so a change confined to part of the frame (the next slide's text on
/// the same background) starts a new still, and so does slow drift once it adds up. A still shorter than
/// <see cref="Settings.MinStillSeconds"/> is a transition and shows no slide. Stills that look alike, block by block,
/// are one slide, however often it returns.
/// </summary>
public sealed class SlideTimeline(int width, int height, double sampleSeconds, SlideTimeline.Settings settings)
{
    /// <param name="BlockSize">Side of the square blocks compared, in sample pixels.</param>
    /// <param name="ChangeThreshold">Mean absolute change of a block (0–255) that makes two frames different pictures.</param>
    public sealed record Settings(int BlockSize = 10, double ChangeThreshold = 8, double MinStillSeconds = 1);

    private readonly List<(byte[] Reference, List<ShownRange> Shown)> _slides = [];
    private byte[]? _still;
    private int _stillStart;
    private int _frames;

    public int FrameSize => width * height;

    /// <summary>Feeds the next sample (width × height bytes of luma).</summary>
    public void Add(byte[] frame)
    {
        if (_still is null || Difference(_still, frame) > settings.ChangeThreshold)
        {
            CloseStill(_frames);
            (_still, _stillStart) = (frame, _frames);
        }

        _frames++;
    }

    /// <summary>The distinct slides, numbered in the order they first appeared.</summary>
    public IReadOnlyList<Slide> Slides()
    {
        CloseStill(_frames);
        _still = null;
        return [.. _slides.Select((slide, i) => new Slide(i + 1, [.. slide.Shown]))];
    }

    private double Difference(byte[] a, byte[] b) => PictureChange.LargestBlockChange(a, b, width, height, settings.BlockSize);

    private void CloseStill(int end)
    {
        if (_still is null || (end - _stillStart) * sampleSeconds < settings.MinStillSeconds)
        {
            return;
        }

        var range = new ShownRange(_stillStart * sampleSeconds, end * sampleSeconds);
        var slide = _slides.FirstOrDefault(s => Difference(s.Reference, _still) <= settings.ChangeThreshold);
        if (slide.Shown is null)
        {
            _slides.Add((_still, [range]));
        }
        else if (slide.Shown[^1].DistanceTo(range.StartSeconds) <= settings.MinStillSeconds)
        {
            slide.Shown[^1] = slide.Shown[^1] with { EndSeconds = range.EndSeconds }; // back after a flicker or a fade
        }
        else
        {
            slide.Shown.Add(range);
        }
    }
}
