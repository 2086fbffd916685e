using Heimdex.Shared.Storage;
using Heimdex.Worker.Pipeline;
using Heimdex.Worker.Stages;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Lectures;

/// <summary>A slide as the notes need it: when it was shown, and the lines read on it.</summary>
public sealed record FoundSlide(Slide Slide, IReadOnlyList<string> OnScreen);

/// <summary>
/// The slides of a lecture, found in the picture itself rather than in the scenes (slides on one background are often
/// one shot, and a slide shown again is a new scene but not a new page) by the ocr stage's samples: each distinct
/// slide with the lines the ocr stage read on screen at the moment its picture (stored by the keyframes stage) shows,
/// stored for the notes. It works on the picture alone, so it runs in the picture branch while the transcript is still
/// being made; the notes stage then only puts pages together.
/// </summary>
public sealed class SlidesStage : IPipelineStage
{
    public static string StageName => "slides";

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var slides = await OcrStage.LoadSlidesShownAsync(context.Store, video.Id, cancellationToken);
        var shown = await context.Db.OnScreenTexts.AsNoTracking().Where(t => t.VideoId == video.Id)
            .OrderBy(t => t.StartSeconds).ThenBy(t => t.Id).ToListAsync(cancellationToken);
        var found = slides.Select(slide => new FoundSlide(slide, shown
            .Where(line => line.StartSeconds <= slide.PictureSeconds && slide.PictureSeconds < line.EndSeconds)
            .Select(line => line.Text).Distinct().ToList())).ToList();
        await context.Store.PutJsonAsync(StorageKeys.Slides(video.Id), found, cancellationToken);
        return StageOutcome.Done(StorageKeys.Slides(video.Id));
    }

    /// <summary>The slides stored for a video by this stage.</summary>
    public static async Task<IReadOnlyList<FoundSlide>> LoadAsync(ObjectStore store, Guid videoId, CancellationToken cancellationToken) =>
        await store.GetJsonAsync<List<FoundSlide>>(StorageKeys.Slides(videoId), cancellationToken)
        ?? throw new InvalidDataException($"{StorageKeys.Slides(videoId)} holds no slide list.");
}
