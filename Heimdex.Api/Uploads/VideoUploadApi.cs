using System.Security.Claims;
using System.Text;
using Heimdex.Api.Videos;
using Heimdex.Shared.Uploads;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Users;
using Heimdex.Shared.Videos;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Heimdex.Api.Uploads;

/// <summary><c>POST /api/videos</c>: a whole video in one multipart/form-data request, streamed to storage.</summary>
public static class VideoUploadApi
{
    private const int MaxFieldBytes = 16 * 1024;

    public sealed record UploadServices(OriginalStore Originals, VideoIntake Intake, ObjectStore Store, IOptions<UploadOptions> Options);

    public static RouteGroupBuilder MapVideoUploadApi(this RouteGroupBuilder videos)
    {
        videos.MapPost("", UploadAsync)
            .WithName("UploadVideo")
            .WithSummary("Upload a video in one request")
            .WithDescription("multipart/form-data with a `file` part and optional `title` and `description` fields. The file is streamed " +
                             "to storage and its container decided from its bytes. Answers 202 with the video (state `uploaded`); " +
                             "the indexing pipeline is enqueued.")
            .Accepts<IFormFile>("multipart/form-data")
            .WithBodyLimit(null)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return videos;
    }

    private static async Task<Results<Accepted<VideoResponse>, ProblemHttpResult>> UploadAsync(
        HttpRequest request, ClaimsPrincipal user, [AsParameters] UploadServices services, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            return Problem(new UploadRejectedException(415, "Not a form upload",
                "Send the video as multipart/form-data with a 'file' part, or use the resumable tus endpoint /api/uploads."));
        }

        var limit = services.Options.Value.MaxBytes;
        if (request.ContentLength > limit + (1024 * 1024))
        {
            return Problem(UploadRejectedException.TooLarge(limit));
        }

        var videoId = Guid.CreateVersion7();
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
        string? title = null, description = null, fileName = null;
        StoredOriginal? stored = null;
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    continue;
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (disposition.IsFileDisposition() && name == "file")
                {
                    if (stored is not null)
                    {
                        throw new UploadRejectedException(400, "Several files", "Upload one video per request.");
                    }

                    fileName = FileNames.Sanitize(HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value);
                    stored = await services.Originals.StoreAsync(videoId, section.Body, cancellationToken);
                }
                else if (name is "title" or "description")
                {
                    var value = VideoDetails.Check(name, await ReadFieldAsync(section.Body, cancellationToken));
                    (title, description) = name == "title" ? (value, description) : (title, value);
                }
            }

            if (stored is null)
            {
                throw new UploadRejectedException(400, "No file", "The form has no 'file' part.");
            }

            var video = await services.Intake.AcceptAsync(
                VideoDetails.From(title, description, fileName!).NewVideo(videoId, user.UserId(), fileName!, stored.SizeBytes, stored.ContentType, stored.Sha256),
                cancellationToken);
            return TypedResults.Accepted($"/api/videos/{video.Id}", VideoResponse.From(video));
        }
        catch (Exception error)
        {
            // Whatever went wrong once the file was stored, the object goes too: nothing is left that no video owns.
            if (stored is not null)
            {
                await services.Store.DeletePrefixAsync(StorageKeys.VideoPrefix(videoId), CancellationToken.None);
            }

            if (error is UploadRejectedException rejected)
            {
                return Problem(rejected);
            }

            if (error is InvalidDataException or IOException)
            {
                return Problem(new UploadRejectedException(400, "Malformed upload", error.Message));
            }

            throw;
        }
    }

    private static async Task<string> ReadFieldAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxFieldBytes + 1];
        var read = await OriginalStore.FillAsync(body, buffer, buffer.Length, cancellationToken);
        return read > MaxFieldBytes
            ? throw new UploadRejectedException(400, "Field too long", $"Form fields may be at most {MaxFieldBytes} bytes.")
            : Encoding.UTF8.GetString(buffer, 0, read);
    }

    public static ProblemHttpResult Problem(UploadRejectedException rejected) =>
        TypedResults.Problem(rejected.Message, statusCode: rejected.Status, title: rejected.Title);
}
