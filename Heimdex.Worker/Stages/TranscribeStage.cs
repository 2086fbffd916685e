using Heimdex.Shared.Models;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Pipeline;
using Heimdex.Worker.Speech;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Stages;

/// <summary>
/// Speech to timed text. The audio is split at pauses and recognised a region at a time, on as many cores as the
/// other stages leave free as it goes; each region's segments are saved, in order of time, as soon as it and the
/// regions before it are heard, so a resumed run starts after the last region that produced text.
/// </summary>
public sealed class TranscribeStage(LoadedModel<ISpeechRecognizer> recognizer) : IPipelineStage
{
    public static string StageName => PipelineStages.Transcribe;

    public IEnumerable<string> FindProblems() => recognizer.FindProblems();

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        if (video.AudioCodec is null)
        {
            return StageOutcome.Skip("the video has no audio stream");
        }

        if (!context.IsResuming)
        {
            await context.Db.TranscriptSegments.Where(s => s.VideoId == video.Id).ExecuteDeleteAsync(cancellationToken);
        }

        var path = Path.Combine(context.WorkDirectory, "audio.wav");
        await context.Store.DownloadFileAsync(StorageKeys.Audio(video.Id), path, cancellationToken);
        using var audio = WavFile.Open(path);
        var regions = VoiceActivity.FindRegions(audio, new VoiceActivity.Settings(), cancellationToken);
        progress.Report(0.05);

        var stored = await context.Db.TranscriptSegments.Where(s => s.VideoId == video.Id)
            .GroupBy(s => s.VideoId).Select(g => new { Count = g.Count(), End = g.Max(s => s.EndSeconds) }).SingleOrDefaultAsync(cancellationToken);
        var nextIndex = stored?.Count ?? 0;
        var left = regions.Where(r => stored is null || r.StartSeconds >= stored.End).ToList();
        // Heard on the cores the other stages leave free (the picture branch usually runs meanwhile, and its cores join
        // when it is done; a reprocess of the transcript alone gets them all), saved in order of time: what is stored
        // is always a finished beginning.
        await foreach (var (region, segments) in Transcriber.RecognizeInOrderAsync(audio, left, recognizer.Value, context.FreeCores, cancellationToken))
        {
            context.Db.TranscriptSegments.AddRange(segments.Select(segment => new TranscriptSegment
            {
                VideoId = video.Id,
                Index = nextIndex++,
                StartSeconds = segment.StartSeconds,
                EndSeconds = segment.EndSeconds,
                Text = segment.Text,
                Confidence = segment.Confidence,
            }));
            await context.Db.SaveChangesAsync(cancellationToken);
            progress.Report(0.05 + 0.95 * region.EndSeconds / Math.Max(audio.DurationSeconds, 0.001));
        }

        return StageOutcome.Done();
    }
}
