using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;
using Heimdex.Shared.Search;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Stages;

/// <summary>
/// Makes scenes searchable: a full-text document (title, what is shown and said, description) and sentence
/// embeddings of what is shown and said during each scene (together, and each on its own when there are both, see
/// <see cref="SentenceEncoder.Space"/>) — a scene with neither is described by the video's title and description, so
/// every scene can be found by meaning. The finalize stage then tells API processes to load them.
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
            var (shownText, saidText) = (Shown(scene, shown), Said(scene, speech));
            scene.SearchText = string.Join(". ", shownText.Concat(saidText));
            SceneEmbedding Embedding(string space, string text) =>
                new() { SceneId = scene.Id, VideoId = video.Id, Space = space, Vector = encoder.Value.Embed(text) };
            embeddings.Add(Embedding(SentenceEncoder.Space, scene.SearchText.Length > 0
                ? scene.SearchText
                : string.Join(". ", new[] { video.Title, video.Description }.Where(t => !string.IsNullOrWhiteSpace(t)))));
            if (shownText.Count > 0 && saidText.Count > 0)
            {
                embeddings.Add(Embedding(SentenceEncoder.ShownSpace, string.Join(". ", shownText)));
                embeddings.Add(Embedding(SentenceEncoder.SaidSpace, string.Join(". ", saidText)));
            }

            progress.Report((i + 1.0) / scenes.Count);
        }

        await using var transaction = await context.Db.Database.BeginTransactionAsync(cancellationToken);
        await context.Db.SceneEmbeddings.Where(e => e.VideoId == video.Id && SentenceEncoder.Spaces.Contains(e.Space)).ExecuteDeleteAsync(cancellationToken);
        context.Db.SceneEmbeddings.AddRange(embeddings);
        await context.Db.SaveChangesAsync(cancellationToken);
        await SceneDocuments.UpdateAsync(context.Db, [video.Id], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return StageOutcome.Done();
    }

    /// <summary>The lines shown while the scene is on screen.</summary>
    private static List<string> Shown(Scene scene, IEnumerable<OnScreenText> shown) =>
        [.. shown.Where(t => t.StartSeconds < scene.EndSeconds && t.EndSeconds > scene.StartSeconds).Select(t => t.Text)];

    /// <summary>The words said while the scene is on screen.</summary>
    private static List<string> Said(Scene scene, IEnumerable<TranscriptSegment> speech) =>
        [.. speech.Where(s => s.StartSeconds < scene.EndSeconds && s.EndSeconds > scene.StartSeconds).Select(s => s.Text)];
}
