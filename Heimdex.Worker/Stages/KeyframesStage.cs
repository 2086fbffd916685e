using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Lectures;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Heimdex.Worker.Stages;

/// <summary>
/// The still pictures a video is stored with, all from one decode of it (one ffmpeg run whatever the number of scenes
/// and slides): one representative frame per scene (its middle), full size and as a thumbnail, and each distinct
/// slide the ocr stage saw (<see cref="Slide.PictureSeconds"/>) at up to <see cref="SlidePictureWidth"/>. A rerun
/// only picks the scenes still without their pictures.
/// </summary>
public sealed class KeyframesStage(FFmpeg ffmpeg, IOptions<PipelineOptions> options) : IPipelineStage
{
    public static string StageName => PipelineStages.Keyframes;

    /// <summary>The width slide pictures are stored at (for the notes' pages).</summary>
    private const int SlidePictureWidth = 1280;

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var scenes = await context.Db.Scenes.Where(s => s.VideoId == video.Id).OrderBy(s => s.Index).ToListAsync(cancellationToken);
        var missing = scenes.Where(s => s.KeyframeKey != StorageKeys.Keyframe(video.Id, s.Index) || s.ThumbnailKey != StorageKeys.Thumbnail(video.Id, s.Index)).ToList();
        var slides = await OcrStage.LoadSlidesShownAsync(context.Store, video.Id, cancellationToken);
        // Frames are counted as shot detection counts them. Picture times are half a second apart at least, but a
        // slideshow of under two frames a second may hold two in one frame: that frame serves both.
        var frameRate = DetectShotsStage.FrameRateOf(video);
        var slideFrameOf = slides.ToDictionary(slide => slide.Number, slide => (int)Math.Floor(slide.PictureSeconds * frameRate));
        var slideFrames = slideFrameOf.Values.Distinct().Order().ToList();

        var pictures = Directory.CreateDirectory(Path.Combine(context.WorkDirectory, "keyframes")).FullName;
        List<string> branches = [];
        List<string> outputs = [];
        if (missing.Count > 0)
        {
            branches.Add($"{FFmpeg.SelectFrames(missing.Select(s => (s.StartFrame + s.EndFrame) / 2))},split=2[full][small];[small]scale={options.Value.ThumbnailWidth}:-2[thumbnails]");
            outputs.AddRange(["-map", "[full]", "-fps_mode", "passthrough", "-q:v", "2", Path.Combine(pictures, "keyframe-%06d.jpg"),
                              "-map", "[thumbnails]", "-fps_mode", "passthrough", "-q:v", "4", Path.Combine(pictures, "thumbnail-%06d.jpg")]);
        }

        if (slideFrames.Count > 0)
        {
            branches.Add($"{FFmpeg.SelectFrames(slideFrames)},scale='min({SlidePictureWidth},iw)':-2[slides]");
            outputs.AddRange(["-map", "[slides]", "-fps_mode", "passthrough", "-q:v", "3", Path.Combine(pictures, "slide-%04d.jpg")]);
        }

        if (branches.Count > 0)
        {
            // The select expressions grow with the scenes and slides: the graph goes to ffmpeg in a file, not on the command line.
            var graph = Path.Combine(context.WorkDirectory, "keyframes.filtergraph");
            await File.WriteAllTextAsync(graph, branches.Count == 1
                ? $"[0:v]{branches[0]}"
                : $"[0:v]split={branches.Count}{string.Concat(branches.Select((_, i) => $"[in{i}]"))};{string.Join(';', branches.Select((branch, i) => $"[in{i}]{branch}"))}",
                cancellationToken);
            var duration = Math.Max(1, video.DurationSeconds ?? 0);
            await ffmpeg.RunAsync(
                ["-i", await context.OriginalUrlAsync(), "-filter_complex_script", graph, .. outputs, "-progress", "pipe:1", "-nostats"],
                (output, token) => FFmpeg.ReadProgressAsync(output, seconds => progress.Report(Math.Min(0.8, 0.8 * seconds / duration)), token),
                cancellationToken, context.FreeCores());
        }

        // ffmpeg numbers the pictures of each output from 1, in the order of the frames it selected.
        List<(string Key, string File)> stored =
        [
            .. missing.SelectMany((scene, i) => new[]
            {
                (StorageKeys.Keyframe(video.Id, scene.Index), Path.Combine(pictures, $"keyframe-{i + 1:D6}.jpg")),
                (StorageKeys.Thumbnail(video.Id, scene.Index), Path.Combine(pictures, $"thumbnail-{i + 1:D6}.jpg")),
            }),
            .. slides.Select(slide => (StorageKeys.SlidePicture(video.Id, slide.Number), Path.Combine(pictures, $"slide-{slideFrames.IndexOf(slideFrameOf[slide.Number]) + 1:D4}.jpg"))),
        ];
        if (stored.FirstOrDefault(picture => !File.Exists(picture.File)) is { File: not null } absent)
        {
            throw new InvalidOperationException($"ffmpeg wrote no {Path.GetFileName(absent.File)} for {missing.Count} scenes and {slideFrames.Count} slide frames: the video decodes to fewer frames than shot detection counted.");
        }

        for (var i = 0; i < stored.Count; i++)
        {
            await context.Store.UploadFileAsync(stored[i].Key, stored[i].File, "image/jpeg", cancellationToken);
            progress.Report(0.8 + 0.2 * (i + 1) / stored.Count);
        }

        foreach (var scene in missing)
        {
            (scene.KeyframeKey, scene.ThumbnailKey) = (StorageKeys.Keyframe(video.Id, scene.Index), StorageKeys.Thumbnail(video.Id, scene.Index));
        }

        await context.Db.SaveChangesAsync(cancellationToken);
        return StageOutcome.Done([StorageKeys.VideoPrefix(video.Id) + "keyframes/", StorageKeys.VideoPrefix(video.Id) + "thumbnails/",
            .. slides.Select(slide => StorageKeys.SlidePicture(video.Id, slide.Number))]);
    }
}
