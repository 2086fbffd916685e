using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Videos;

namespace Heimdex.Api.Videos;

public sealed record StageResponse(
    string Stage, string State, int Attempt, int Progress, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Error);

public sealed record VideoResponse(
    Guid Id,
    string Title,
    string? Description,
    string OriginalFileName,
    long SizeBytes,
    string ContentType,
    string? Sha256,
    double? DurationSeconds,
    int? Width,
    int? Height,
    double? FrameRate,
    string? VideoCodec,
    string? AudioCodec,
    string State,
    string? Error,
    DateTimeOffset CreatedAt,
    IReadOnlyList<StageResponse> Stages,
    string StreamUrl,
    string? ThumbnailUrl)
{
    /// <summary>The first scene's thumbnail stands for the video once the <c>keyframes</c> stage has made it.</summary>
    public static VideoResponse From(Video video) => new(
        video.Id, video.Title, video.Description, video.OriginalFileName, video.SizeBytes, video.ContentType, video.Sha256,
        video.DurationSeconds, video.Width, video.Height, video.FrameRate, video.VideoCodec, video.AudioCodec,
        video.State.ToString().ToLowerInvariant(), video.Error, video.CreatedAt,
        video.Stages.OrderBy(s => s.Position).Select(s => new StageResponse(s.Stage, s.State.ToString().ToLowerInvariant(), s.Attempt, s.Progress,
            s.StartedAt, s.FinishedAt, s.Error)).ToList(),
        $"/api/videos/{video.Id}/stream",
        video.Stages.Any(s => s.Stage == PipelineStages.Keyframes && s.State == StageState.Succeeded) ? $"/api/videos/{video.Id}/scenes/0/thumbnail" : null);
}

public sealed record PageResponse<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);
