using Heimdex.Shared.Models;
using Heimdex.Shared.Videos;
using Heimdex.Shared.Faces;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Stages;

/// <summary>Every face on each scene's keyframe, with landmarks, detection score, quality and a 512-d embedding.</summary>
public sealed class FacesStage(LoadedModel<FaceAnalyzer> faces) : IPipelineStage
{
    public static string StageName => "faces";

    public IEnumerable<string> FindProblems() => faces.FindProblems();

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var scenes = await context.Db.Scenes.Where(s => s.VideoId == video.Id && s.KeyframeKey != null).OrderBy(s => s.Index).ToListAsync(cancellationToken);
        var found = new List<Face>();
        var keyframe = Path.Combine(context.WorkDirectory, "keyframe.jpg");
        for (var i = 0; i < scenes.Count; i++)
        {
            await context.Store.DownloadFileAsync(scenes[i].KeyframeKey!, keyframe, cancellationToken);
            found.AddRange(faces.Value.Analyze(keyframe).Select(face => new Face
            {
                VideoId = video.Id,
                SceneId = scenes[i].Id,
                X = face.Detection.X,
                Y = face.Detection.Y,
                Width = face.Detection.Width,
                Height = face.Detection.Height,
                Landmarks = face.Detection.Landmarks,
                Score = face.Detection.Score,
                Quality = face.Quality,
                Embedding = face.Embedding,
            }));
            progress.Report((i + 1.0) / scenes.Count);
        }

        await context.ReplaceRowsAsync(context.Db.Faces.Where(f => f.VideoId == video.Id), found, cancellationToken);
        return StageOutcome.Done();
    }
}
