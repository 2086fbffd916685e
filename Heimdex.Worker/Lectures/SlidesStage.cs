using System.Globalization;
using Heimdex.Shared.Storage;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Heimdex.Worker.Stages;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Lectures;

/// <summary>A slide as the notes need it: when it was shown, and the lines read on it.</summary>
public sealed record FoundSlide(Slide Slide, IReadOnlyList<string> OnScreen);

/// <summary>
/// The slides of a lecture, found in the picture itself rather than in the scenes (slides on one background are often
/// one shot, and a slide shown again is a new scene but not a new page) by the ocr stage's samples: each distinct
/// slide's full-size picture, all taken in one decode of the video, and the lines the ocr stage read on screen at the
/// moment that picture shows, stored for the notes. It works on the picture alone, so it runs in the picture branch
/// while the transcript is still being made; the notes stage then only puts pages together.
/// </summary>
public sealed class SlidesStage(FFmpeg ffmpeg) : IPipelineStage
{
    public static string StageName => "slides";

    /// <summary>The width the slide pictures are stored at in the PDF.</summary>
    public const int PictureWidth = 1280;

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var slides = await context.Store.GetJsonAsync<List<Slide>>(StorageKeys.SlidesShown(video.Id), cancellationToken)
                     ?? throw new PermanentStageFailure("The ocr stage left no list of the slides shown (it ran before it made one): reprocess from ocr.");
        var pictures = await TakePicturesAsync(context, slides, cancellationToken);
        progress.Report(0.6);
        var shown = await context.Db.OnScreenTexts.AsNoTracking().Where(t => t.VideoId == video.Id)
            .OrderBy(t => t.StartSeconds).ThenBy(t => t.Id).ToListAsync(cancellationToken);

        var found = new List<FoundSlide>();
        foreach (var slide in slides)
        {
            var onScreen = shown.Where(line => line.StartSeconds <= slide.PictureSeconds && slide.PictureSeconds < line.EndSeconds)
                .Select(line => line.Text).Distinct().ToList();
            await context.Store.UploadFileAsync(StorageKeys.SlidePicture(video.Id, slide.Number), pictures[slide.Number], "image/jpeg", cancellationToken);
            found.Add(new FoundSlide(slide, onScreen));
            progress.Report(0.6 + 0.35 * slide.Number / slides.Count);
        }

        await context.Store.PutJsonAsync(StorageKeys.Slides(video.Id), found, cancellationToken);
        return StageOutcome.Done([StorageKeys.Slides(video.Id), .. found.Select(f => StorageKeys.SlidePicture(video.Id, f.Slide.Number))]);
    }

    /// <summary>The slides stored for a video by this stage.</summary>
    public static async Task<IReadOnlyList<FoundSlide>> LoadAsync(ObjectStore store, Guid videoId, CancellationToken cancellationToken) =>
        await store.GetJsonAsync<List<FoundSlide>>(StorageKeys.Slides(videoId), cancellationToken)
        ?? throw new InvalidDataException($"{StorageKeys.Slides(videoId)} holds no slide list.");

    /// <summary>
    /// Each slide's picture (by number), from one ffmpeg run that keeps the frames at the slides' picture times — one
    /// decode whatever the number of slides, where a seek per slide costs a launch and a decode from the keyframe
    /// before it each.
    /// </summary>
    private async Task<Dictionary<int, string>> TakePicturesAsync(StageContext context, IReadOnlyList<Slide> slides, CancellationToken cancellationToken)
    {
        if (slides.Count == 0)
        {
            return [];
        }

        // Frames are counted as shot detection and keyframes count them. Picture times are half a second apart at
        // least, but a slideshow of under two frames a second may hold two in one frame: that frame serves both.
        var frameRate = DetectShotsStage.FrameRateOf(context.Video);
        var frameOf = slides.ToDictionary(slide => slide.Number, slide => (int)Math.Floor(slide.PictureSeconds * frameRate));
        var frames = frameOf.Values.Distinct().Order().ToList();
        var directory = Directory.CreateDirectory(Path.Combine(context.WorkDirectory, "slides")).FullName;
        var graph = Path.Combine(context.WorkDirectory, "slides.filtergraph");
        await File.WriteAllTextAsync(graph,
            $"[0:v]{FFmpeg.SelectFrames(frames)},scale='min({PictureWidth},iw)':-2[pictures]", cancellationToken);
        await ffmpeg.RunAsync(
            ["-i", await context.OriginalUrlAsync(), "-filter_complex_script", graph, "-map", "[pictures]", "-fps_mode", "passthrough", "-q:v", "3",
             "-frames:v", frames.Count.ToString(CultureInfo.InvariantCulture), Path.Combine(directory, "slide-%04d.jpg")],
            readOutput: null, cancellationToken);

        // ffmpeg numbers the pictures it wrote from 1, in the order of the frames it kept.
        var pictures = slides.ToDictionary(slide => slide.Number, slide => Path.Combine(directory, $"slide-{frames.IndexOf(frameOf[slide.Number]) + 1:D4}.jpg"));
        if (pictures.Values.FirstOrDefault(picture => !File.Exists(picture)) is not null)
        {
            throw new InvalidOperationException($"ffmpeg wrote {Directory.GetFiles(directory).Length} pictures for {frames.Count} slides: the video decodes to fewer frames than its frame rate promises.");
        }

        return pictures;
    }
}
