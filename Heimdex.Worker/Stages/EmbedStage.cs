using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;
using Heimdex.Shared.Search;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Heimdex.Worker.Stages;

/// <summary>
/// Makes scenes searchable: a full-text document (title, what is shown and said, description) and one sentence
/// embedding per scene from what is said and shown during it — a scene with neither is described by the video's
/// title and description, so every scene can be found by meaning. API processes are told to reload the video.
/// </summary>
public sealed class EmbedStage(LoadedModel<SentenceEncoder> encoder, IConnectionMultiplexer redis) : IPipelineStage
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
            scene.SearchText = SceneText(scene, speech, shown);
            embeddings.Add(new SceneEmbedding
            {
                SceneId = scene.Id,
                VideoId = video.Id,
                Space = SentenceEncoder.Space,
                Vector = encoder.Value.Embed(scene.SearchText.Length > 0
                    ? scene.SearchText
                    : string.Join(". ", new[] { video.Title, video.Description }.Where(t => !string.IsNullOrWhiteSpace(t)))),
            });
            progress.Report((i + 1.0) / scenes.Count);
        }

        await using var transaction = await context.Db.Database.BeginTransactionAsync(cancellationToken);
        await context.Db.SceneEmbeddings.Where(e => e.VideoId == video.Id && e.Space == SentenceEncoder.Space).ExecuteDeleteAsync(cancellationToken);
        context.Db.SceneEmbeddings.AddRange(embeddings);
        await context.Db.SaveChangesAsync(cancellationToken);
        await SceneDocuments.UpdateAsync(context.Db, [video.Id], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await SceneChanges.PublishAsync(redis, video.Id);
        return StageOutcome.Done();
    }

    /// <summary>The lines shown and the words said while the scene is on screen.</summary>
    public static string SceneText(Scene scene, IEnumerable<TranscriptSegment> speech, IEnumerable<OnScreenText> shown) => string.Join(". ",
        shown.Where(t => t.StartSeconds < scene.EndSeconds && t.EndSeconds > scene.StartSeconds).Select(t => t.Text)
            .Concat(speech.Where(s => s.StartSeconds < scene.EndSeconds && s.EndSeconds > scene.StartSeconds).Select(s => s.Text)));
}
