using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Microsoft.Extensions.Options;

namespace Heimdex.Tests.Pipeline;

/// <summary>The detector on the shared media with ground truth, decoded the way the stage decodes it (64 px grey).</summary>
public sealed class ShotDetectorTests
{
    public static async Task<(IReadOnlyList<int> Cuts, int Frames)> DetectAsync(string video)
    {
        const int width = 64, height = 36;
        var detector = new ShotDetector(width, height, new ShotDetector.Settings());
        var ffmpeg = new FFmpeg(Options.Create(new PipelineOptions()));
        await ffmpeg.RunAsync(ShotDetector.DecodeArguments(video, width, height),
            (frames, token) => ShotDetector.ReadFramesAsync(frames, detector.FrameSize, frame => detector.Add(frame), token), TestContext.Current.CancellationToken);
        return (detector.Cuts(), detector.FrameCount);
    }

    [Fact]
    public async Task The_hard_cuts_of_testvideo_are_found_within_one_frame()
    {
        var (cuts, frames) = await DetectAsync(TestFiles.SharedMedia("video", "testvideo.mp4"));

        Assert.Equal(720, frames);
        Assert.Contains(cuts, cut => Math.Abs(cut - 30) <= 1);
        Assert.Contains(cuts, cut => Math.Abs(cut - 180) <= 1);
    }

    [Fact]
    public async Task Fades_are_not_cuts()
    {
        var (cuts, _) = await DetectAsync(TestFiles.SharedMedia("video", "fades.mp4"));

        Assert.Empty(cuts);
    }

    [Fact]
    public void Cuts_closer_than_the_minimum_scene_length_are_dropped()
    {
        Assert.Equal([30, 180], ShotDetector.WithMinimumLength([30, 40, 180, 715], minFrames: 15, totalFrames: 720));
        Assert.Empty(ShotDetector.WithMinimumLength([5], minFrames: 15, totalFrames: 720));
    }
}
