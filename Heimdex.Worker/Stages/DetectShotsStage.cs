using Heimdex.Shared.Videos;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Heimdex.Worker.Stages;

/// <summary>
/// Decodes the video once, small and grey, straight into the shot detector, and turns its cuts into scenes. The
/// video's scene rows are replaced in one transaction, so a rerun never duplicates them.
/// </summary>
public sealed class DetectShotsStage(FFmpeg ffmpeg, IOptions<PipelineOptions> options) : IPipelineStage
{
    public static string StageName => "detect_shots";

    /// <summary>The rate scene frames are counted and timed at (25 when the video does not say): what numbers frames for every stage.</summary>
    public static double FrameRateOf(Video video) => video.FrameRate is > 0 ? video.FrameRate.Value : 25;

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var frameRate = FrameRateOf(video);
        var expectedFrames = Math.Max(1, (int)Math.Round((video.DurationSeconds ?? 0) * frameRate));
        var width = options.Value.ShotDetectionWidth;
        var height = Math.Max(2, (int)Math.Round(width * (double)(video.Height ?? 9) / (video.Width ?? 16) / 2) * 2);
        var detector = new ShotDetector(width, height, frameRate, new ShotDetector.Settings());

        await ffmpeg.RunAsync(
            ShotDetector.DecodeArguments(await context.OriginalUrlAsync(), width, height),
            (frames, token) => ShotDetector.ReadFramesAsync(frames, detector.FrameSize, frame =>
            {
                detector.Add(frame);
                if (detector.FrameCount % 100 == 0)
                {
                    progress.Report(Math.Min(0.95, (double)detector.FrameCount / expectedFrames));
                }
            }, token),
            cancellationToken, context.FreeCores());

        var totalFrames = detector.FrameCount;
        if (totalFrames == 0)
        {
            throw new PermanentStageFailure("No frame of the video could be decoded.");
        }

        var minFrames = (int)Math.Round(options.Value.MinSceneSeconds * frameRate);
        var boundaries = ShotDetector.WithMinimumLength(detector.Cuts(), minFrames, totalFrames).Prepend(0).Append(totalFrames).ToList();
        var scenes = boundaries.Zip(boundaries.Skip(1), (start, end) => (start, end))
            .Select((shot, index) => new Scene
            {
                VideoId = video.Id,
                Index = index,
                StartFrame = shot.start,
                EndFrame = shot.end - 1,
                StartSeconds = shot.start / frameRate,
                EndSeconds = shot.end / frameRate,
            })
            .ToList();

        await context.ReplaceRowsAsync(context.Db.Scenes.Where(s => s.VideoId == video.Id), scenes, cancellationToken);
        return StageOutcome.Done();
    }
}
