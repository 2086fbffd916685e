using System.Globalization;
using System.Text.Json;
using Heimdex.Shared.Storage;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Lectures;

/// <summary>A slide as the notes need it: when it was shown, and the lines read on it.</summary>
public sealed record FoundSlide(Slide Slide, IReadOnlyList<string> OnScreen);

/// <summary>
/// The slides of a lecture, found in the picture itself rather than in the scenes (slides on one background are often
/// one shot, and a slide shown again is a new scene but not a new page): each distinct slide's full-size picture and
/// the lines the ocr stage read on screen at the moment that picture shows, stored for the notes. It works on the
/// picture alone, so it runs in the picture branch while the transcript is still being made; the notes stage then
/// only puts pages together.
/// </summary>
public sealed class SlidesStage(FFmpeg ffmpeg) : IPipelineStage
{
    public static string StageName => "slides";

    /// <summary>Slides are looked for in grey frames this small, sampled this often: enough to see a line of text change.</summary>
    public const int SampleWidth = 160;
    public const int SampleHeight = 90;
    public const double SampleSeconds = 0.5;

    /// <summary>The width the slide pictures are stored at in the PDF.</summary>
    public const int PictureWidth = 1280;

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var url = await context.OriginalUrlAsync();
        var slides = await FindSlidesAsync(url, cancellationToken);
        progress.Report(0.4);
        var shown = await context.Db.OnScreenTexts.AsNoTracking().Where(t => t.VideoId == video.Id)
            .OrderBy(t => t.StartSeconds).ThenBy(t => t.Id).ToListAsync(cancellationToken);

        var found = new List<FoundSlide>();
        foreach (var slide in slides)
        {
            var picture = Path.Combine(context.WorkDirectory, $"slide-{slide.Number:D4}.jpg");
            var at = slide.PictureSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            await ffmpeg.RunAsync(
                ["-ss", at, "-i", url, "-map", "0:v:0", "-frames:v", "1", "-vf", $"scale='min({PictureWidth},iw)':-2", "-q:v", "3", "-y", picture],
                readOutput: null, cancellationToken);
            var onScreen = shown.Where(line => line.StartSeconds <= slide.PictureSeconds && slide.PictureSeconds < line.EndSeconds)
                .Select(line => line.Text).Distinct().ToList();
            await context.Store.UploadFileAsync(StorageKeys.SlidePicture(video.Id, slide.Number), picture, "image/jpeg", cancellationToken);
            found.Add(new FoundSlide(slide, onScreen));
            progress.Report(0.4 + 0.55 * slide.Number / slides.Count);
        }

        var list = Path.Combine(context.WorkDirectory, "slides.json");
        await File.WriteAllBytesAsync(list, JsonSerializer.SerializeToUtf8Bytes(found), cancellationToken);
        await context.Store.UploadFileAsync(StorageKeys.Slides(video.Id), list, "application/json", cancellationToken);
        return StageOutcome.Done([StorageKeys.Slides(video.Id), .. found.Select(f => StorageKeys.SlidePicture(video.Id, f.Slide.Number))]);
    }

    /// <summary>The slides stored for a video by this stage.</summary>
    public static async Task<IReadOnlyList<FoundSlide>> LoadAsync(ObjectStore store, Guid videoId, string workDirectory, CancellationToken cancellationToken)
    {
        var list = Path.Combine(workDirectory, "slides.json");
        await store.DownloadFileAsync(StorageKeys.Slides(videoId), list, cancellationToken);
        await using var file = File.OpenRead(list);
        return await JsonSerializer.DeserializeAsync<List<FoundSlide>>(file, cancellationToken: cancellationToken)
               ?? throw new InvalidDataException($"{StorageKeys.Slides(videoId)} holds no slide list.");
    }

    private async Task<IReadOnlyList<Slide>> FindSlidesAsync(string url, CancellationToken cancellationToken)
    {
        var timeline = new SlideTimeline(SampleWidth, SampleHeight, SampleSeconds, new SlideTimeline.Settings());
        var rate = (1 / SampleSeconds).ToString("0.###", CultureInfo.InvariantCulture);
        await ffmpeg.RunAsync(
            ["-i", url, "-map", "0:v:0", "-vf", $"fps={rate},scale={SampleWidth}:{SampleHeight}:flags=area,format=gray", "-f", "rawvideo", "pipe:1"],
            (output, token) => ShotDetector.ReadFramesAsync(output, timeline.FrameSize, timeline.Add, token),
            cancellationToken);
        return timeline.Slides();
    }
}
