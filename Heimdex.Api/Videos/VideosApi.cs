using Heimdex.Conventions;
using System.Globalization;
using System.Security.Claims;
using Amazon.S3.Model;
using Heimdex.Api.Uploads;
using Heimdex.Shared.Data;
using Heimdex.Shared.Search;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using StackExchange.Redis;

namespace Heimdex.Api.Videos;

public static class VideosApi
{
    public sealed record VideoServices(HeimdexDbContext Db, ObjectStore Store, IConnectionMultiplexer Redis);

    public static RouteGroupBuilder MapVideosApi(this RouteGroupBuilder videos)
    {
        videos.MapVideoUploadApi();
        videos.MapScenesApi();
        videos.MapGet("", ListAsync)
            .WithName("ListVideos")
            .WithSummary("Your videos, newest first")
            .WithDescription("Paged with `page` (from 1) and `pageSize` (1–200, default 50).");
        videos.MapGet("{id:guid}", GetAsync)
            .WithName("GetVideo")
            .WithSummary("One video: metadata, state and per-stage status");
        videos.MapDelete("{id:guid}", DeleteAsync)
            .WithName("DeleteVideo")
            .WithSummary("Delete a video with every row and stored object that belongs to it");
        videos.MapGet("{id:guid}/stream", StreamAsync)
            .WithName("StreamVideo")
            .WithSummary("The original file, with HTTP Range support")
            .WithDescription("Send `Range: bytes=start-end` to fetch part of it (206 Partial Content), as video players do.");
        return videos;
    }

    /// <summary>Pages past this would skip more rows than a query can say (and more videos than anyone has).</summary>
    private const int MaxPage = 1_000_000;
    private const int MaxPageSize = 200;

    private static async Task<Results<Ok<PageResponse<VideoResponse>>, ValidationProblem>> ListAsync(
        ClaimsPrincipal user, HeimdexDbContext db, CancellationToken cancellationToken, int page = 1, int pageSize = 50)
    {
        var errors = new Dictionary<string, string[]>();
        if (page is < 1 or > MaxPage)
        {
            errors["page"] = [$"page is between 1 and {MaxPage}"];
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"pageSize is between 1 and {MaxPageSize}"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var owner = user.UserId();
        var mine = db.Videos.AsNoTracking().Where(v => v.OwnerId == owner);
        var total = await mine.CountAsync(cancellationToken);
        var items = await mine.Include(v => v.Stages)
            .OrderByDescending(v => v.CreatedAt).ThenByDescending(v => v.Id)
            .Skip((page - 1) * pageSize).Take(pageSize)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new PageResponse<VideoResponse>(items.Select(VideoResponse.From).ToList(), page, pageSize, total));
    }

    private static async Task<Results<Ok<VideoResponse>, NotFound>> GetAsync(
        Guid id, ClaimsPrincipal user, HeimdexDbContext db, CancellationToken cancellationToken)
    {
        var owner = user.UserId();
        var video = await db.Videos.AsNoTracking().Include(v => v.Stages)
            .FirstOrDefaultAsync(v => v.Id == id && v.OwnerId == owner, cancellationToken);
        return video is null ? TypedResults.NotFound() : TypedResults.Ok(VideoResponse.From(video));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(
        Guid id, ClaimsPrincipal user, [AsParameters] VideoServices services, CancellationToken cancellationToken)
    {
        var owner = user.UserId();
        var video = await services.Db.Videos.FirstOrDefaultAsync(v => v.Id == id && v.OwnerId == owner, cancellationToken);
        if (video is null)
        {
            return TypedResults.NotFound();
        }

        // Objects first: a failure then leaves a row to retry the delete from, never an orphaned object.
        await services.Store.DeletePrefixAsync(StorageKeys.VideoPrefix(id), cancellationToken);
        services.Db.Videos.Remove(video);
        await services.Db.Uploads.Where(u => u.VideoId == id).ExecuteDeleteAsync(cancellationToken);
        await services.Db.SaveChangesAsync(cancellationToken);
        await SceneChanges.PublishAsync(services.Redis, id); // search forgets its scenes
        return TypedResults.NoContent();
    }

    private static async Task<Results<EmptyHttpResult, NotFound, ProblemHttpResult>> StreamAsync(
        Guid id, HttpContext context, ClaimsPrincipal user, [AsParameters] VideoServices services, CancellationToken cancellationToken)
    {
        var owner = user.UserId();
        var video = await services.Db.Videos.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id && v.OwnerId == owner, cancellationToken);
        if (video is null)
        {
            return TypedResults.NotFound();
        }

        var request = new GetObjectRequest { BucketName = services.Store.Bucket, Key = StorageKeys.VideoOriginal(id) };
        var range = ByteRanges.Resolve(context.Request.Headers.Range.ToString(), video.SizeBytes);
        if (range is { Length: <= 0 })
        {
            context.Response.Headers.ContentRange = $"bytes */{video.SizeBytes}";
            return TypedResults.Problem($"The range is outside the file's {video.SizeBytes} bytes.",
                statusCode: StatusCodes.Status416RangeNotSatisfiable, title: "Range not satisfiable");
        }

        if (range is { } wanted)
        {
            request.ByteRange = new ByteRange(wanted.Offset, wanted.Offset + wanted.Length - 1);
        }

        using var stored = await services.Store.S3.GetObjectAsync(request, cancellationToken);
        var response = context.Response;
        response.ContentType = video.ContentType;
        response.Headers.AcceptRanges = "bytes";
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("inline") { FileNameStar = video.OriginalFileName }.ToString();
        if (range is { } partial)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = $"bytes {partial.Offset}-{partial.Offset + partial.Length - 1}/{video.SizeBytes}";
            response.ContentLength = partial.Length;
        }
        else
        {
            response.ContentLength = video.SizeBytes;
        }

        await stored.ResponseStream.CopyToAsync(response.Body, cancellationToken);
        return TypedResults.Empty;
    }
}
