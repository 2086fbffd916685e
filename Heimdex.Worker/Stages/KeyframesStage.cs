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
/// One representative frame per scene (its middle), stored full size and as a thumbnail, and a small grey frame every
/// <see cref="SampleSeconds"/> seconds for the visual descriptors search by image compares against — all from one
/// decode of the video: one ffmpeg run whatever the number of scenes. A rerun only picks the scenes still without
/// their frames.
/// </summary>
public sealed class KeyframesStage(FFmpeg ffmpeg, IOptions<PipelineOptions> options) : IPipelineStage
{
    public static string StageName => PipelineStages.Keyframes;

    /// <summary>How often a frame is sampled for search by image.</summary>
    public const double SampleSeconds = 2;

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var scenes = await context.Db.Scenes.Where(s => s.VideoId == video.Id).OrderBy(s => s.Index).ToListAsync(cancellationToken);
        var missing = scenes.Where(s => s.KeyframeKey != StorageKeys.Keyframe(video.Id, s.Index) || s.ThumbnailKey != StorageKeys.Thumbnail(video.Id, s.Index)).ToList();
        var pictures = Directory.CreateDirectory(Path.Combine(context.WorkDirectory, "keyframes")).FullName;
        // The select expression grows with the scenes: it goes to ffmpeg in a file, not on the command line.
        var graph = Path.Combine(context.WorkDirectory, "keyframes.filtergraph");
        var size = VisualDescriptor.Size;
        var rate = (1 / SampleSeconds).ToString("0.###", CultureInfo.InvariantCulture);
        var selectMiddles = FFmpeg.SelectFrames(missing.Select(s => (s.StartFrame + s.EndFrame) / 2));
        await File.WriteAllTextAsync(graph, missing.Count == 0
            ? $"[0:v]fps={rate},scale={size}:{size}:flags=bilinear,format=gray[samples]"
            : $"[0:v]split=2[pick][sample];[pick]{selectMiddles},split=2[full][small];[small]scale={options.Value.ThumbnailWidth}:-2[thumbnails];" +
              $"[sample]fps={rate},scale={size}:{size}:flags=bilinear,format=gray[samples]", cancellationToken);
        string[] keyframeOutputs = missing.Count == 0 ? [] :
            ["-map", "[full]", "-fps_mode", "passthrough", "-q:v", "2", Path.Combine(pictures, "keyframe-%06d.jpg"),
             "-map", "[thumbnails]", "-fps_mode", "passthrough", "-q:v", "4", Path.Combine(pictures, "thumbnail-%06d.jpg")];
        var frames = new List<SceneFrame>();
        var sampled = 0;
        var expectedSamples = Math.Max(1, (video.DurationSeconds ?? 0) / SampleSeconds);
        await ffmpeg.RunAsync(
            ["-i", await context.OriginalUrlAsync(), "-filter_complex_script", graph, .. keyframeOutputs, "-map", "[samples]", "-f", "rawvideo", "pipe:1"],
            (output, token) => ShotDetector.ReadFramesAsync(output, size * size, frame =>
            {
                var seconds = sampled++ * SampleSeconds;
                if (scenes.LastOrDefault(s => s.StartSeconds <= seconds) is { } scene)
                {
                    frames.Add(new SceneFrame { VideoId = scene.VideoId, SceneId = scene.Id, Seconds = seconds, Descriptor = VisualDescriptor.FromGrey(frame) });
                }

                progress.Report(Math.Min(0.8, 0.8 * sampled / expectedSamples));
            }, token),
            cancellationToken);

        // ffmpeg numbers the pictures it wrote from 1, in the order of the frames it selected: the scenes' order.
        for (var i = 0; i < missing.Count; i++)
        {
            var (keyframe, thumbnail) = (Path.Combine(pictures, $"keyframe-{i + 1:D6}.jpg"), Path.Combine(pictures, $"thumbnail-{i + 1:D6}.jpg"));
            if (!File.Exists(keyframe) || !File.Exists(thumbnail))
            {
                throw new InvalidOperationException($"ffmpeg wrote {Directory.GetFiles(pictures, "keyframe-*").Length} keyframes for {missing.Count} scenes: the video decodes to fewer frames than shot detection counted.");
            }

            var scene = missing[i];
            (scene.KeyframeKey, scene.ThumbnailKey) = (StorageKeys.Keyframe(video.Id, scene.Index), StorageKeys.Thumbnail(video.Id, scene.Index));
            await context.Store.UploadFileAsync(scene.KeyframeKey, keyframe, "image/jpeg", cancellationToken);
            await context.Store.UploadFileAsync(scene.ThumbnailKey, thumbnail, "image/jpeg", cancellationToken);
            progress.Report(0.8 + 0.2 * (i + 1) / missing.Count);
        }

        await context.Db.SaveChangesAsync(cancellationToken);
        await context.ReplaceRowsAsync(context.Db.SceneFrames.Where(f => f.VideoId == video.Id), frames, cancellationToken);
        return StageOutcome.Done(StorageKeys.VideoPrefix(video.Id) + "keyframes/", StorageKeys.VideoPrefix(video.Id) + "thumbnails/");
    }
}
