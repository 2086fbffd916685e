using System.Diagnostics;
using System.Security.Claims;
using Heimdex.Shared.Data;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Telemetry;
using Heimdex.Shared.Users;
using Heimdex.Shared.Videos;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Api.Videos;

public sealed record SceneResponse(
    Guid Id, int Index, double StartSeconds, double EndSeconds, int StartFrame, int EndFrame, string? ThumbnailUrl, string? KeyframeUrl,
    IReadOnlyList<OnScreenTextResponse> OnScreenText, IReadOnlyList<FaceResponse> Faces);

/// <summary>A line read on screen, visible from <c>StartSeconds</c> to <c>EndSeconds</c> (it may span several scenes).</summary>
public sealed record OnScreenTextResponse(string Text, double Confidence, double StartSeconds, double EndSeconds);

/// <summary>A face on the scene's keyframe, in keyframe pixels; <c>Quality</c> (0–1) combines detection score, size and sharpness.</summary>
public sealed record FaceResponse(Guid Id, float X, float Y, float Width, float Height, float Score, float Quality, Guid? PersonId);

public sealed record TranscriptSegmentResponse(int Index, double StartSeconds, double EndSeconds, string Text, double Confidence);

public sealed record TranscriptResponse(Guid VideoId, IReadOnlyList<TranscriptSegmentResponse> Segments);

/// <summary>What the pipeline made of a video: its scenes with their images, and the way to run stages again.</summary>
public static class ScenesApi
{
    public static RouteGroupBuilder MapScenesApi(this RouteGroupBuilder videos)
    {
        videos.MapGet("{id:guid}/scenes", ListAsync)
            .WithName("ListScenes")
            .WithSummary("A video's scenes in order")
            .WithDescription("Each scene's start and end (seconds and frames), the URLs of its thumbnail (~320 px) and full-size keyframe, " +
                             "the text read on screen during it and the faces on its keyframe.");
        videos.MapGet("{id:guid}/transcript", TranscriptAsync)
            .WithName("GetTranscript")
            .WithSummary("A video's speech as timed segments")
            .WithDescription("Segments in order with start and end (seconds), text and the recogniser's confidence (0–1). Empty until " +
                             "the `transcribe` stage has run, and for a video without speech.");
        videos.MapGet("{id:guid}/scenes/{index:int}/{image:regex(^(thumbnail|keyframe)$)}", ImageAsync)
            .WithName("SceneImage")
            .WithSummary("A scene's thumbnail or keyframe (JPEG)");
        videos.MapPost("{id:guid}/reprocess", ReprocessAsync)
            .WithName("ReprocessVideo")
            .WithSummary("Run the pipeline again from a stage")
            .WithDescription("`fromStage` (e.g. `keyframes`) re-runs that stage and every later one; without it the pipeline resumes at " +
                             "the first stage that has not succeeded. Answers 202 with the video.");
        return videos;
    }

    private static async Task<Results<Ok<List<SceneResponse>>, NotFound>> ListAsync(
        Guid id, ClaimsPrincipal user, HeimdexDbContext db, CancellationToken cancellationToken)
    {
        var owner = user.UserId();
        if (!await db.Videos.AnyAsync(v => v.Id == id && v.OwnerId == owner, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var scenes = await db.Scenes.AsNoTracking().Where(s => s.VideoId == id).OrderBy(s => s.Index).ToListAsync(cancellationToken);
        var texts = await db.OnScreenTexts.AsNoTracking().Where(t => t.VideoId == id).OrderBy(t => t.StartSeconds).ToListAsync(cancellationToken);
        var faces = (await db.Faces.AsNoTracking().Where(f => f.VideoId == id).OrderBy(f => f.X).ToListAsync(cancellationToken)).ToLookup(f => f.SceneId);
        return TypedResults.Ok(scenes.Select(s => new SceneResponse(s.Id, s.Index, s.StartSeconds, s.EndSeconds, s.StartFrame, s.EndFrame,
            s.ThumbnailKey is null ? null : $"/api/videos/{id}/scenes/{s.Index}/thumbnail",
            s.KeyframeKey is null ? null : $"/api/videos/{id}/scenes/{s.Index}/keyframe",
            [.. texts.Where(t => t.StartSeconds < s.EndSeconds && t.EndSeconds > s.StartSeconds)
                .Select(t => new OnScreenTextResponse(t.Text, t.Confidence, t.StartSeconds, t.EndSeconds))],
            [.. faces[s.Id].Select(f => new FaceResponse(f.Id, f.X, f.Y, f.Width, f.Height, f.Score, f.Quality, f.PersonId))])).ToList());
    }

    private static async Task<Results<Ok<TranscriptResponse>, NotFound>> TranscriptAsync(
        Guid id, ClaimsPrincipal user, HeimdexDbContext db, CancellationToken cancellationToken)
    {
        var owner = user.UserId();
        if (!await db.Videos.AnyAsync(v => v.Id == id && v.OwnerId == owner, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var segments = await db.TranscriptSegments.AsNoTracking().Where(s => s.VideoId == id).OrderBy(s => s.Index)
            .Select(s => new TranscriptSegmentResponse(s.Index, s.StartSeconds, s.EndSeconds, s.Text, s.Confidence))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new TranscriptResponse(id, segments));
    }

    private static async Task<Results<FileStreamHttpResult, NotFound>> ImageAsync(
        Guid id, int index, string image, ClaimsPrincipal user, [AsParameters] VideosApi.VideoServices services, CancellationToken cancellationToken)
    {
        var owner = user.UserId();
        var scene = await services.Db.Scenes.AsNoTracking()
            .Where(s => s.VideoId == id && s.Index == index && services.Db.Videos.Any(v => v.Id == id && v.OwnerId == owner))
            .FirstOrDefaultAsync(cancellationToken);
        var key = image == "thumbnail" ? scene?.ThumbnailKey : scene?.KeyframeKey;
        if (key is null)
        {
            return TypedResults.NotFound();
        }

        var stored = await services.Store.S3.GetObjectAsync(services.Store.Bucket, key, cancellationToken);
        return TypedResults.Stream(stored.ResponseStream, "image/jpeg");
    }

    private static async Task<Results<Accepted<VideoResponse>, NotFound, ProblemHttpResult>> ReprocessAsync(
        Guid id, ClaimsPrincipal user, HeimdexDbContext db, IVideoPipeline pipeline, TimeProvider time, CancellationToken cancellationToken,
        string? fromStage = null)
    {
        var owner = user.UserId();
        var video = await db.Videos.Include(v => v.Stages).FirstOrDefaultAsync(v => v.Id == id && v.OwnerId == owner, cancellationToken);
        if (video is null)
        {
            return TypedResults.NotFound();
        }

        if (fromStage is not null && video.Stages.All(s => s.Stage != fromStage))
        {
            var known = video.Stages.Count == 0 ? "none yet: the pipeline has not started" : string.Join(", ", video.Stages.Select(s => s.Stage));
            return TypedResults.Problem($"'{fromStage}' is not a stage of this video's pipeline (stages: {known}).",
                statusCode: StatusCodes.Status400BadRequest, title: "Unknown stage");
        }

        if (video.Stages.FirstOrDefault(s => s.State == StageState.Running) is { } running)
        {
            return TypedResults.Problem($"Stage '{running.Stage}' is running; reprocess once it has finished.",
                statusCode: StatusCodes.Status409Conflict, title: "Pipeline busy");
        }

        video.Requeue(time.GetUtcNow());
        await db.SaveChangesAsync(cancellationToken);
        foreach (var link in HeimdexTelemetry.LinkTo(video.TraceParent))
        {
            Activity.Current?.AddLink(link); // this request's trace carries the new run; the upload's trace is where it began
        }

        pipeline.Enqueue(id, fromStage);
        return TypedResults.Accepted($"/api/videos/{id}", VideoResponse.From(video));
    }
}
