using Heimdex.Shared.Models;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Lectures;
using Heimdex.Worker.Pipeline;
using Heimdex.Worker.Text;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Stages;

/// <summary>
/// The text on screen, read wherever the picture changes (<see cref="ScreenReader"/>) in one decode of the video:
/// each line is stored once with the time range it showed, under the scene it first appeared in. The same samples show
/// where the distinct slides of a lecture were on screen (<see cref="SlideTimeline"/>), stored for the keyframes
/// stage, which takes their pictures in the decode it makes anyway, and the slides stage.
/// </summary>
public sealed class OcrStage(FFmpeg ffmpeg, LoadedModel<TesseractOcr> ocr) : IPipelineStage
{
    public static string StageName => "ocr";

    public IEnumerable<string> FindProblems() => ocr.FindProblems();

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var scenes = await context.Db.Scenes.Where(s => s.VideoId == video.Id).OrderBy(s => s.Index).ToListAsync(cancellationToken);
        var texts = new List<OnScreenText>();
        var settings = new ScreenReader.Settings();
        var (width, height) = (video.Width ?? 1280, video.Height ?? 720);
        var compared = ScreenReader.ComparedSizeFor(width, height, settings);
        var slides = new SlideTimeline(compared.Width, compared.Height, settings.SampleSeconds, new SlideTimeline.Settings());
        if (scenes.Count > 0)
        {
            var duration = video.DurationSeconds ?? scenes[^1].EndSeconds;
            var (lines, _) = await ScreenReader.ReadVideoAsync(ffmpeg, await context.OriginalUrlAsync(), (width, height), duration,
                [.. scenes.Select(s => s.StartSeconds)], ocr.Value.Read, settings, slides.Add, context.FreeCores(), progress, cancellationToken);
            texts.AddRange(lines.Select(line => new OnScreenText
            {
                VideoId = video.Id,
                SceneId = scenes.Last(s => s.StartSeconds <= line.StartSeconds || s.Index == 0).Id,
                StartSeconds = line.StartSeconds,
                EndSeconds = line.EndSeconds,
                Text = line.Text,
                Confidence = line.Confidence,
            }));
        }

        await context.Store.PutJsonAsync(StorageKeys.SlidesShown(video.Id), slides.Slides(), cancellationToken);
        await context.ReplaceRowsAsync(context.Db.OnScreenTexts.Where(t => t.VideoId == video.Id), texts, cancellationToken);
        return StageOutcome.Done(StorageKeys.SlidesShown(video.Id));
    }

    /// <summary>The slides this stage saw on screen, for the stages after it.</summary>
    public static async Task<IReadOnlyList<Slide>> LoadSlidesShownAsync(ObjectStore store, Guid videoId, CancellationToken cancellationToken) =>
        await store.GetJsonAsync<List<Slide>>(StorageKeys.SlidesShown(videoId), cancellationToken)
        ?? throw new PermanentStageFailure("The ocr stage left no list of the slides shown (it ran before it made one): reprocess from ocr.");
}
