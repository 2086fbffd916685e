using System.Security.Claims;
using System.Text;
using Heimdex.Api.Videos;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Api.Lectures;

/// <summary>What a recorded lecture turns into: subtitles from the timed transcript, and notes of its slides.</summary>
public static class LecturesApi
{
    public static RouteGroupBuilder MapLecturesApi(this RouteGroupBuilder videos)
    {
        videos.MapGet("{id:guid}/subtitles.srt", (Guid id, ClaimsPrincipal user, [AsParameters] VideosApi.VideoServices services, CancellationToken cancellationToken, string? lang) =>
                SubtitlesAsync(id, user, services, lang, cues => Subtitles.ToSrt(cues), "application/x-subrip", cancellationToken))
            .WithName("GetSubtitlesSrt")
            .WithSummary("Subtitles of the video's speech (SubRip)")
            .WithDescription(SubtitlesDescription);
        videos.MapGet("{id:guid}/subtitles.vtt", (Guid id, ClaimsPrincipal user, [AsParameters] VideosApi.VideoServices services, CancellationToken cancellationToken, string? lang) =>
                SubtitlesAsync(id, user, services, lang, cues => Subtitles.ToWebVtt(cues), "text/vtt", cancellationToken))
            .WithName("GetSubtitlesVtt")
            .WithSummary("Subtitles of the video's speech (WebVTT)")
            .WithDescription(SubtitlesDescription);
        videos.MapGet("{id:guid}/notes.pdf", NotesAsync)
            .WithName("GetLectureNotes")
            .WithSummary("The lecture's notes (PDF): each distinct slide with its on-screen text and what was said while it was shown")
            .WithDescription("One page per distinct slide (a slide shown several times appears once, with every time range it was shown), " +
                             "its picture, its on-screen text as selectable text, and the transcript spoken while it was on screen. Made by " +
                             "the `notes` stage; 409 until that stage has run.");
        return videos;
    }

    private const string SubtitlesDescription =
        "Made from the timed transcript: at most 42 characters a line, 2 lines a cue, cues of at most " +
        "7 s that never overlap. A video without speech has none. 409 until the `transcribe` stage has run. `lang` is reserved for " +
        "translations and refused for now.";

    private static async Task<Results<ContentHttpResult, NotFound, ProblemHttpResult>> SubtitlesAsync(
        Guid id, ClaimsPrincipal user, VideosApi.VideoServices services, string? lang, Func<IReadOnlyList<SubtitleCue>, string> format,
        string contentType, CancellationToken cancellationToken)
    {
        if (lang is not null)
        {
            return TypedResults.Problem("Subtitles are in the language that was spoken; `lang` is reserved for translations, which Heimdex does not make yet.",
                statusCode: StatusCodes.Status400BadRequest, title: "Translations are not available");
        }

        var (owned, notReady) = await ReadinessAsync(id, user, services, PipelineStages.Transcribe, cancellationToken);
        if (!owned)
        {
            return TypedResults.NotFound();
        }

        if (notReady is not null)
        {
            return NotReady(notReady);
        }

        var segments = await services.Db.TranscriptSegments.AsNoTracking().Where(s => s.VideoId == id).OrderBy(s => s.Index).ToListAsync(cancellationToken);
        return TypedResults.Text(format(Subtitles.Cues(segments)), contentType, Encoding.UTF8);
    }

    private static async Task<Results<FileStreamHttpResult, NotFound, ProblemHttpResult>> NotesAsync(
        Guid id, ClaimsPrincipal user, [AsParameters] VideosApi.VideoServices services, CancellationToken cancellationToken)
    {
        var (owned, notReady) = await ReadinessAsync(id, user, services, PipelineStages.Notes, cancellationToken);
        if (!owned)
        {
            return TypedResults.NotFound();
        }

        if (notReady is not null)
        {
            return NotReady(notReady);
        }

        var stored = await services.Store.S3.GetObjectAsync(services.Store.Bucket, StorageKeys.Notes(id), cancellationToken);
        return TypedResults.Stream(stored.ResponseStream, "application/pdf", $"notes-{id}.pdf");
    }

    /// <summary>Whether the user owns the video, and why what is asked for is not ready: the stage that makes it has not finished.</summary>
    private static async Task<(bool Owned, string? NotReady)> ReadinessAsync(
        Guid id, ClaimsPrincipal user, VideosApi.VideoServices services, string stage, CancellationToken cancellationToken)
    {
        var owner = user.UserId();
        var video = await services.Db.Videos.AsNoTracking().Include(v => v.Stages).FirstOrDefaultAsync(v => v.Id == id && v.OwnerId == owner, cancellationToken);
        var state = video?.Stages.FirstOrDefault(s => s.Stage == stage)?.State;
        return (video is not null, state is StageState.Succeeded or StageState.Skipped
            ? null
            : $"The `{stage}` stage, which makes this, is {(state?.ToString() ?? "not started").ToLowerInvariant()} for this video; try again once it has run.");
    }

    private static ProblemHttpResult NotReady(string reason) =>
        TypedResults.Problem(reason, statusCode: StatusCodes.Status409Conflict, title: "Not ready yet");
}
