using System.Globalization;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Search;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Heimdex.Worker.Stages;

/// <summary>
/// One representative frame per scene (its middle), stored full size and as a thumbnail; each scene is saved as it
/// is done, so a resumed run only does the scenes that are left. Then one pass samples a frame every
/// <see cref="SampleSeconds"/> seconds, tiny and grey, for the visual descriptors search by image compares against.
/// </summary>
public sealed class KeyframesStage(FFmpeg ffmpeg, IOptions<PipelineOptions> options) : IPipelineStage
{
    public static string StageName => PipelineStages.Keyframes;

    /// <summary>How often a frame is sampled for search by image.</summary>
    public const double SampleSeconds = 2;

    private async Task SampleFramesAsync(StageContext context, List<Scene> scenes, string url, CancellationToken cancellationToken)
    {
        var frames = new List<SceneFrame>();
        var size = VisualDescriptor.Size;
        var rate = (1 / SampleSeconds).ToString("0.###", CultureInfo.InvariantCulture);
        var sampled = 0;
        await ffmpeg.RunAsync(
            ["-i", url, "-map", "0:v:0", "-vf", $"fps={rate},scale={size}:{size}:flags=bilinear,format=gray", "-f", "rawvideo", "pipe:1"],
            (output, token) => ShotDetector.ReadFramesAsync(output, size * size, frame =>
            {
                var seconds = sampled++ * SampleSeconds;
                if (scenes.LastOrDefault(s => s.StartSeconds <= seconds) is { } scene)
                {
                    frames.Add(new SceneFrame { VideoId = scene.VideoId, SceneId = scene.Id, Seconds = seconds, Descriptor = VisualDescriptor.FromGrey(frame) });
                }
            }, token),
            cancellationToken);
        await context.ReplaceRowsAsync(context.Db.SceneFrames.Where(f => f.VideoId == context.Video.Id), frames, cancellationToken);
    }

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var scenes = await context.Db.Scenes.Where(s => s.VideoId == video.Id).OrderBy(s => s.Index).ToListAsync(cancellationToken);
        var url = await context.OriginalUrlAsync();
        var done = 0;
        foreach (var scene in scenes)
        {
            var keyframeKey = StorageKeys.Keyframe(video.Id, scene.Index);
            var thumbnailKey = StorageKeys.Thumbnail(video.Id, scene.Index);
            if (scene.KeyframeKey != keyframeKey || scene.ThumbnailKey != thumbnailKey)
            {
                var middle = ((scene.StartSeconds + scene.EndSeconds) / 2).ToString("0.###", CultureInfo.InvariantCulture);
                var keyframe = Path.Combine(context.WorkDirectory, "keyframe.jpg");
                var thumbnail = Path.Combine(context.WorkDirectory, "thumbnail.jpg");
                await ffmpeg.RunAsync(
                    ["-ss", middle, "-i", url, "-map", "0:v:0", "-frames:v", "1", "-q:v", "2", "-y", keyframe], readOutput: null, cancellationToken);
                await ffmpeg.RunAsync(
                    ["-i", keyframe, "-vf", $"scale={options.Value.ThumbnailWidth}:-2", "-q:v", "4", "-y", thumbnail], readOutput: null, cancellationToken);
                await context.Store.UploadFileAsync(keyframeKey, keyframe, "image/jpeg", cancellationToken);
                await context.Store.UploadFileAsync(thumbnailKey, thumbnail, "image/jpeg", cancellationToken);
                (scene.KeyframeKey, scene.ThumbnailKey) = (keyframeKey, thumbnailKey);
                await context.Db.SaveChangesAsync(cancellationToken);
            }

            progress.Report(0.9 * ++done / scenes.Count);
        }

        await SampleFramesAsync(context, scenes, url, cancellationToken);

        return StageOutcome.Done(StorageKeys.VideoPrefix(video.Id) + "keyframes/", StorageKeys.VideoPrefix(video.Id) + "thumbnails/");
    }
}
