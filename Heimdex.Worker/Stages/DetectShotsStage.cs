using System.Globalization;
using Heimdex.Shared.Search;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Heimdex.Worker.Stages;

/// <summary>
/// Decodes the video once, small and grey, straight into the shot detector, and turns its cuts into scenes; the same
/// decode samples a frame every <see cref="SampleSeconds"/> seconds for the visual descriptors search by image
/// compares against. The video's scene rows are replaced in one transaction, so a rerun never duplicates them (their
/// sampled frames go with them).
/// </summary>
public sealed class DetectShotsStage(FFmpeg ffmpeg, IOptions<PipelineOptions> options) : IPipelineStage
{
    public static string StageName => "detect_shots";

    /// <summary>How often a frame is sampled for search by image.</summary>
    public const double SampleSeconds = 2;

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
        // stdout carries the detector's frames; the samples (a few KiB a minute) go to a file, read once scenes exist.
        var samples = Path.Combine(context.WorkDirectory, "samples.gray");
        var (size, rate) = (VisualDescriptor.Size, (1 / SampleSeconds).ToString("0.###", CultureInfo.InvariantCulture));

        await ffmpeg.RunAsync(
            ["-i", await context.OriginalUrlAsync(), "-filter_complex",
             $"[0:v:0]split=2[shots][samples];[shots]{ShotDetector.Frames(width, height)}[detect];[samples]fps={rate},scale={size}:{size}:flags=bilinear,format=gray[descriptors]",
             "-map", "[descriptors]", "-f", "rawvideo", "-y", samples, "-map", "[detect]", "-f", "rawvideo", "-"],
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
                OwnerId = video.OwnerId,
                Index = index,
                StartFrame = shot.start,
                EndFrame = shot.end - 1,
                StartSeconds = shot.start / frameRate,
                EndSeconds = shot.end / frameRate,
            })
            .ToList();

        await context.ReplaceRowsAsync(context.Db.Scenes.Where(s => s.VideoId == video.Id), scenes, cancellationToken);
        await using var sampled = File.OpenRead(samples);
        var sampleFrames = new List<SceneFrame>();
        var sample = 0;
        await ShotDetector.ReadFramesAsync(sampled, size * size, frame =>
        {
            var seconds = sample++ * SampleSeconds;
            if (scenes.LastOrDefault(s => s.StartSeconds <= seconds) is { } scene)
            {
                sampleFrames.Add(new SceneFrame { VideoId = video.Id, SceneId = scene.Id, Seconds = seconds, Descriptor = VisualDescriptor.FromGrey(frame) });
            }
        }, cancellationToken);
        await context.ReplaceRowsAsync(context.Db.SceneFrames.Where(f => f.VideoId == video.Id), sampleFrames, cancellationToken);
        return StageOutcome.Done();
    }
}
