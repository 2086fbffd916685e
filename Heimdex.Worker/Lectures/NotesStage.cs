using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Lectures;

/// <summary>
/// The lecture notes PDF: one page per slide the slides stage found, with its picture, the text read on it and the
/// transcript's words said while it was on screen. Runs once both the slides and the transcript exist; a reprocess
/// makes it again under the same key.
/// </summary>
public sealed class NotesStage : IPipelineStage
{
    public static string StageName => PipelineStages.Notes;

    public IEnumerable<string> FindProblems() => LectureNotesPdf.FindProblems();

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var slides = await SlidesStage.LoadAsync(context.Store, video.Id, cancellationToken);
        var segments = await context.Db.TranscriptSegments.AsNoTracking().Where(s => s.VideoId == video.Id).ToListAsync(cancellationToken);
        var words = SpokenWords.Of(segments);
        var said = SaidOver([.. slides.Select(s => s.Slide)], words);
        var pages = new List<NotesPage>();
        foreach (var (slide, onScreen) in slides)
        {
            var picture = Path.Combine(context.WorkDirectory, $"slide-{slide.Number:D4}.jpg");
            await context.Store.DownloadFileAsync(StorageKeys.SlidePicture(video.Id, slide.Number), picture, cancellationToken);
            pages.Add(new NotesPage(slide, picture, onScreen, string.Join(' ', said[slide.Number - 1])));
            progress.Report(0.9 * slide.Number / slides.Count);
        }

        if (pages.Count == 0)
        {
            // Nothing held still long enough to be a slide: the notes are then the transcript alone.
            var whole = new Slide(1, [new ShownRange(0, video.DurationSeconds ?? 0)]);
            pages.Add(new NotesPage(whole, null, [], string.Join(' ', words.Select(w => w.Text))));
        }

        var notes = Path.Combine(context.WorkDirectory, "notes.pdf");
        await using (var file = File.Create(notes))
        {
            LectureNotesPdf.Write(video.Title, pages, file);
        }

        await context.Store.UploadFileAsync(StorageKeys.Notes(video.Id), notes, "application/pdf", cancellationToken);
        return StageOutcome.Done(StorageKeys.Notes(video.Id));
    }

    /// <summary>
    /// The words said over each slide (by slide number − 1): a word belongs to the slide on screen at its middle, or,
    /// said during a transition or before the first slide, to the slide shown nearest in time.
    /// </summary>
    public static IReadOnlyList<List<string>> SaidOver(IReadOnlyList<Slide> slides, IEnumerable<SpokenWord> words)
    {
        var said = slides.Select(_ => new List<string>()).ToList();
        if (slides.Count == 0)
        {
            return said;
        }

        foreach (var word in words)
        {
            var slide = slides.FirstOrDefault(s => s.Shown.Any(r => r.Contains(word.MiddleSeconds)))
                        ?? slides.MinBy(s => s.Shown.Min(r => r.DistanceTo(word.MiddleSeconds)))!;
            said[slide.Number - 1].Add(word.Text);
        }

        return said;
    }
}
