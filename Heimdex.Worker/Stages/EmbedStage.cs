using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Stages;

/// <summary>
/// One sentence embedding per scene from what is said and shown during it; a scene with neither is described by
/// the video's title and description, so every scene can be found by meaning.
/// </summary>
public sealed class EmbedStage(LoadedModel<SentenceEncoder> encoder) : IPipelineStage
{
    public static string StageName => "embed";

    public IEnumerable<string> FindProblems() => encoder.FindProblems();

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var scenes = await context.Db.Scenes.Where(s => s.VideoId == video.Id).OrderBy(s => s.Index).ToListAsync(cancellationToken);
        var speech = await context.Db.TranscriptSegments.Where(s => s.VideoId == video.Id).OrderBy(s => s.Index).ToListAsync(cancellationToken);
        var shown = await context.Db.OnScreenTexts.Where(t => t.VideoId == video.Id).OrderBy(t => t.StartSeconds).ToListAsync(cancellationToken);
        var embeddings = new List<SceneEmbedding>();
        for (var i = 0; i < scenes.Count; i++)
        {
            var scene = scenes[i];
            embeddings.Add(new SceneEmbedding
            {
                SceneId = scene.Id,
                VideoId = video.Id,
                Space = SentenceEncoder.Space,
                Vector = encoder.Value.Embed(SceneText(video, scene, speech, shown)),
            });
            progress.Report((i + 1.0) / scenes.Count);
        }

        await using var transaction = await context.Db.Database.BeginTransactionAsync(cancellationToken);
        await context.Db.SceneEmbeddings.Where(e => e.VideoId == video.Id && e.Space == SentenceEncoder.Space).ExecuteDeleteAsync(cancellationToken);
        context.Db.SceneEmbeddings.AddRange(embeddings);
        await context.Db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return StageOutcome.Done();
    }

    public static string SceneText(Video video, Scene scene, IEnumerable<TranscriptSegment> speech, IEnumerable<OnScreenText> shown)
    {
        var lines = shown.Where(t => t.StartSeconds < scene.EndSeconds && t.EndSeconds > scene.StartSeconds).Select(t => t.Text)
            .Concat(speech.Where(s => s.StartSeconds < scene.EndSeconds && s.EndSeconds > scene.StartSeconds).Select(s => s.Text))
            .ToList();
        return lines.Count > 0 ? string.Join(". ", lines) : string.Join(". ", new[] { video.Title, video.Description }.Where(t => !string.IsNullOrWhiteSpace(t)));
    }
}
