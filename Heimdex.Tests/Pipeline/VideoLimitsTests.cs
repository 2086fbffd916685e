using Heimdex.Worker.Pipeline;

namespace Heimdex.Tests.Pipeline;

public sealed class VideoLimitsTests
{
    private static readonly PipelineOptions Defaults = new();

    [Theory]
    [InlineData(1280, 720, 3600)]
    [InlineData(3840, 2160, 12 * 3600)]
    [InlineData(8192, 4320, 60)]
    [InlineData(1, 1, 10 * 3600)] // tiny, however long
    public void Videos_within_the_limits_are_indexed(int width, int height, double seconds) =>
        Assert.Null(Defaults.RefusalOf(width, height, seconds));

    [Fact]
    public void A_picture_over_the_pixel_limit_is_refused_however_short()
    {
        var reason = Defaults.RefusalOf(30_000, 30_000, 1);
        Assert.StartsWith("The video's picture is 30000×30000", reason);
        Assert.Contains("Pipeline__MaxVideoPixels", reason);
    }

    [Fact]
    public void Too_much_picture_for_too_long_is_refused_by_width_times_height_times_duration()
    {
        Assert.Contains("Pipeline__MaxVideoPixelSeconds", Defaults.RefusalOf(3840, 2160, 13 * 3600));
        Assert.Null(Defaults.RefusalOf(1920, 1080, 13 * 3600)); // a quarter of the pixels: four times as long allowed
        Assert.Contains("Pipeline__MaxVideoPixelSeconds", Defaults.RefusalOf(1920, 1080, 49 * 3600));
    }
}
