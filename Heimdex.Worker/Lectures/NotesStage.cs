using System.Globalization;
using Heimdex.Shared.Models;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Heimdex.Worker.Stages;
using Heimdex.Worker.Text;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Lectures;

/// <summary>
/// The lecture notes PDF: one page per distinct slide, found in the picture itself rather than in the scenes (slides
/// on one background are often one shot, and a slide shown again is a new scene but not a new page), with the text
/// read on a full-size frame of it and the transcript's words said while it was on screen. Runs after the transcript
/// and the on-screen text exist; a reprocess makes it again under the same key.
/// </summary>
public sealed class NotesStage(FFmpeg ffmpeg, LoadedModel<TesseractOcr> ocr) : IPipelineStage
{
    public static string StageName => PipelineStages.Notes;

    /// <summary>Slides are looked for in grey frames this small, sampled this often: enough to see a line of text change.</summary>
    public const int SampleWidth = 160;
    public const int SampleHeight = 90;
    public const double SampleSeconds = 0.5;

    /// <summary>The width the slide pictures are stored at in the PDF and read at by OCR.</summary>
    public const int PictureWidth = 1280;

    public IEnumerable<string> FindProblems() => ocr.FindProblems().Concat(LectureNotesPdf.FindProblems());

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var url = await context.OriginalUrlAsync();
        var slides = await FindSlidesAsync(url, cancellationToken);
        progress.Report(0.4);

        var segments = await context.Db.TranscriptSegments.AsNoTracking().Where(s => s.VideoId == video.Id).ToListAsync(cancellationToken);
        var words = SpokenWords.Of(segments);
        var said = SaidOver(slides, words);
        var pages = new List<NotesPage>();
        foreach (var slide in slides)
        {
            var picture = Path.Combine(context.WorkDirectory, $"slide-{slide.Number:D4}.jpg");
            var at = slide.PictureSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            await ffmpeg.RunAsync(
                ["-ss", at, "-i", url, "-map", "0:v:0", "-frames:v", "1", "-vf", $"scale='min({PictureWidth},iw)':-2", "-q:v", "3", "-y", picture],
                readOutput: null, cancellationToken);
            var onScreen = ocr.Value.Read(picture).Where(line => line.IsText).DistinctBy(line => line.Key).Select(line => line.Text).ToList();
            pages.Add(new NotesPage(slide, picture, onScreen, string.Join(' ', said[slide.Number - 1])));
            progress.Report(0.4 + 0.5 * slide.Number / slides.Count);
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
