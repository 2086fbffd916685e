using System.Buffers;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using Amazon.S3.Model;
using Heimdex.Shared.Data;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Uploads;
using Heimdex.Shared.Users;
using Heimdex.Shared.Videos;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Heimdex.Api.Uploads;

/// <summary>
/// Resumable uploads, tus 1.0.0 (core, creation, termination, expiration) under <c>/api/uploads</c>, on an S3 multipart
/// upload of the video's final object. Offsets are durable: every full part is uploaded and recorded as it fills,
/// and the bytes of an unfinished part are kept in a tail object, so an upload resumes after the client, the
/// connection or the API restarts.
/// </summary>
public static class TusUploadsApi
{
    public const string TusVersion = "1.0.0";
    private const string OffsetContentType = "application/offset+octet-stream";

    public sealed record TusServices(HeimdexDbContext Db, ObjectStore Store, OriginalStore Originals, VideoIntake Intake,
        NpgsqlDataSource DataSource, IOptions<UploadOptions> Options);

    public static RouteGroupBuilder MapTusUploadsApi(this RouteGroupBuilder uploads)
    {
        uploads.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            http.Response.Headers["Tus-Resumable"] = TusVersion;
            if (http.Request.Method is not ("OPTIONS" or "GET") && http.Request.Headers["Tus-Resumable"] != TusVersion)
            {
                http.Response.Headers["Tus-Version"] = TusVersion;
                return TypedResults.Problem($"This server speaks tus {TusVersion}; send the header Tus-Resumable: {TusVersion}.",
                    statusCode: StatusCodes.Status412PreconditionFailed, title: "Unsupported tus version");
            }

            return await next(context);
        });

        uploads.MapMethods("", ["OPTIONS"], Discover).AllowAnonymous()
            .WithSummary("tus discovery").WithDescription("Tus-Version, Tus-Extension and Tus-Max-Size.");
        uploads.MapPost("", CreateAsync)
            .WithSummary("Start a resumable upload (tus creation)")
            .WithDescription("Headers: Tus-Resumable: 1.0.0, Upload-Length, and Upload-Metadata with base64 `filename`, `title`, `description`. " +
                             "Answers 201 with Location /api/uploads/{id} and Upload-Expires.");
        uploads.MapMethods("{id:guid}", ["HEAD"], HeadAsync)
            .WithSummary("Offset of a resumable upload (tus)").WithDescription("Upload-Offset says where to resume.");
        uploads.MapPatch("{id:guid}", PatchAsync)
            .WithBodyLimit(null)
            .WithSummary("Append bytes to a resumable upload (tus)")
            .WithDescription("Content-Type: application/offset+octet-stream and Upload-Offset equal to the current offset. " +
                             "When the last byte arrives the video is created and its pipeline enqueued.");
        uploads.MapDelete("{id:guid}", TerminateAsync)
            .WithSummary("Cancel a resumable upload (tus termination)").WithDescription("Frees everything stored for it.");
        uploads.MapGet("{id:guid}", GetAsync)
            .WithName("GetUpload")
            .WithSummary("State of a resumable upload").WithDescription("Offset, length, expiry and, once complete, the video id.");
        return uploads;
    }

    public sealed record UploadResponse(Guid Id, long Offset, long Length, string State, DateTimeOffset ExpiresAt, Guid? VideoId, string? VideoUrl);

    private static NoContent Discover(HttpResponse response, IOptions<UploadOptions> options)
    {
        response.Headers["Tus-Version"] = TusVersion;
        response.Headers["Tus-Extension"] = "creation,termination,expiration";
        response.Headers["Tus-Max-Size"] = options.Value.MaxBytes.ToString(CultureInfo.InvariantCulture);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Created, ProblemHttpResult>> CreateAsync(
        HttpRequest request, HttpResponse response, ClaimsPrincipal user, [AsParameters] TusServices services, CancellationToken cancellationToken)
    {
        if (request.Headers.ContainsKey("Upload-Defer-Length"))
        {
            return Problem(400, "Length required", "Deferred lengths are not supported: send Upload-Length.");
        }

        if (!long.TryParse(request.Headers["Upload-Length"], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            return Problem(400, "Length required", "Upload-Length must be the file's size in bytes.");
        }

        if (length == 0)
        {
            return VideoUploadApi.Problem(UploadRejectedException.Empty());
        }

        if (length > services.Options.Value.MaxBytes)
        {
            return VideoUploadApi.Problem(UploadRejectedException.TooLarge(services.Options.Value.MaxBytes));
        }

        var rawMetadata = request.Headers["Upload-Metadata"].ToString();
        if (!TryParseMetadata(rawMetadata, out var metadata))
        {
            return Problem(400, "Malformed metadata", "Upload-Metadata must be comma-separated 'key base64value' pairs.");
        }

        var fileName = FileNames.Sanitize(metadata.GetValueOrDefault("filename") ?? metadata.GetValueOrDefault("name"));
        VideoDetails details;
        try
        {
            details = VideoDetails.From(metadata.GetValueOrDefault("title"), metadata.GetValueOrDefault("description"), fileName);
        }
        catch (UploadRejectedException rejected)
        {
            return VideoUploadApi.Problem(rejected);
        }

        var upload = new Upload
        {
            OwnerId = user.UserId(),
            Length = length,
            FileName = fileName,
            Title = details.Title,
            Description = details.Description,
            RawMetadata = rawMetadata.Length > 0 ? rawMetadata : null,
            ExpiresAt = DateTimeOffset.UtcNow + services.Options.Value.ResumableExpiry,
        };
        services.Db.Uploads.Add(upload);
        await services.Db.SaveChangesAsync(cancellationToken);
        response.Headers["Upload-Expires"] = upload.ExpiresAt.ToString("R", CultureInfo.InvariantCulture);
        return TypedResults.Created($"/api/uploads/{upload.Id}");
    }

    private static async Task<Results<Ok, NotFound>> HeadAsync(
        Guid id, HttpResponse response, ClaimsPrincipal user, HeimdexDbContext db, CancellationToken cancellationToken)
    {
        var upload = await FindAsync(db, id, user, cancellationToken);
        if (upload is null)
        {
            return TypedResults.NotFound();
        }

        response.Headers.CacheControl = "no-store";
        response.Headers["Upload-Offset"] = upload.Offset.ToString(CultureInfo.InvariantCulture);
        response.Headers["Upload-Length"] = upload.Length.ToString(CultureInfo.InvariantCulture);
        response.Headers["Upload-Expires"] = upload.ExpiresAt.ToString("R", CultureInfo.InvariantCulture);
        if (upload.RawMetadata is not null)
        {
            response.Headers["Upload-Metadata"] = upload.RawMetadata;
        }

        return TypedResults.Ok();
    }

    private static async Task<Results<Ok<UploadResponse>, NotFound>> GetAsync(
        Guid id, ClaimsPrincipal user, HeimdexDbContext db, CancellationToken cancellationToken) =>
        await FindAsync(db, id, user, cancellationToken) is { } upload
            ? TypedResults.Ok(new UploadResponse(upload.Id, upload.Offset, upload.Length, upload.State.ToString().ToLowerInvariant(),
                upload.ExpiresAt, upload.VideoId, upload.VideoId is { } videoId ? $"/api/videos/{videoId}" : null))
            : TypedResults.NotFound();

    /// <summary>
    /// Frees the upload at once, even while a PATCH is writing to it: that request notices (its lease or its next
    /// write finds the row gone) and removes whatever it stored meanwhile.
    /// </summary>
    private static async Task<Results<NoContent, NotFound>> TerminateAsync(
        Guid id, ClaimsPrincipal user, [AsParameters] TusServices services, CancellationToken cancellationToken)
    {
        var upload = await FindAsync(services.Db, id, user, cancellationToken);
        if (upload is null)
        {
            return TypedResults.NotFound();
        }

        await UploadStorage.DiscardAsync(upload, services.Db, services.Store, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, NotFound, ProblemHttpResult>> PatchAsync(
        Guid id, HttpRequest request, HttpResponse response, ClaimsPrincipal user, [AsParameters] TusServices services,
        CancellationToken cancellationToken)
    {
        if (!string.Equals(request.ContentType, OffsetContentType, StringComparison.OrdinalIgnoreCase))
        {
            return Problem(415, "Wrong content type", $"PATCH bodies must be {OffsetContentType}.");
        }

        if (!long.TryParse(request.Headers["Upload-Offset"], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            return Problem(400, "Offset required", "Upload-Offset must say where these bytes start.");
        }

        await using var lease = await UploadWriterLease.TryTakeAsync(services.DataSource, id, user.UserId(), cancellationToken);
        var upload = await FindAsync(services.Db, id, user, cancellationToken);
        if (upload is null)
        {
            return TypedResults.NotFound();
        }

        if (lease is null)
        {
            return Problem(423, "Upload busy", "Another request is writing to this upload; retry shortly.");
        }

        if (upload.State != UploadState.Receiving || offset != upload.Offset)
        {
            response.Headers["Upload-Offset"] = upload.Offset.ToString(CultureInfo.InvariantCulture);
            return Problem(409, "Offset mismatch", $"The upload is at offset {upload.Offset}; resume from there.");
        }

        using var readUntil = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Lost);
        try
        {
            await new TusAppend(upload, services).RunAsync(request.Body, readUntil.Token);
        }
        catch (UploadRejectedException rejected)
        {
            await UploadStorage.DiscardAsync(upload, services.Db, services.Store, CancellationToken.None);
            return VideoUploadApi.Problem(rejected);
        }
        catch (Exception)
        {
            if (await services.Db.Uploads.AnyAsync(u => u.Id == id, CancellationToken.None))
            {
                throw;
            }

            // Terminated while this request wrote: what it stored since is its own to remove — the original too, if its
            // last part completed it but the video was never saved.
            await UploadStorage.FreeAsync(upload, services.Store, CancellationToken.None);
            if (!await services.Db.Videos.AnyAsync(v => v.Id == upload.Id, CancellationToken.None))
            {
                await services.Store.DeleteAsync(StorageKeys.VideoOriginal(upload.Id), CancellationToken.None);
            }

            return TypedResults.NotFound();
        }

        response.Headers["Upload-Offset"] = upload.Offset.ToString(CultureInfo.InvariantCulture);
        response.Headers["Upload-Expires"] = upload.ExpiresAt.ToString("R", CultureInfo.InvariantCulture);
        return TypedResults.NoContent();
    }

    private static Task<Upload?> FindAsync(HeimdexDbContext db, Guid id, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var owner = user.UserId();
        return db.Uploads.FirstOrDefaultAsync(u => u.Id == id && u.OwnerId == owner, cancellationToken);
    }

    private static bool TryParseMetadata(string raw, out Dictionary<string, string> metadata)
    {
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = pair.Split(' ', 2);
            try
            {
                metadata[fields[0]] = fields.Length > 1 ? Encoding.UTF8.GetString(Convert.FromBase64String(fields[1])) : "";
            }
            catch (FormatException)
            {
                return false;
            }
        }

        return true;
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title);

    /// <summary>
    /// One PATCH: the stored tail plus the incoming bytes fill part-sized buffers; each full part is uploaded and
    /// recorded at once. Whatever the end — the body's end, a dropped connection — what arrived is kept.
    /// </summary>
    private sealed class TusAppend(Upload upload, TusServices services)
    {
        private readonly int _partSize = services.Options.Value.PartSizeBytes;

        public async Task RunAsync(Stream body, CancellationToken requestAborted)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(_partSize);
            try
            {
                var filled = await LoadTailAsync(buffer, requestAborted);
                var stored = upload.Offset - filled; // bytes already in uploaded parts
                var (ended, interrupted) = (false, false);
                while (true)
                {
                    var target = (int)Math.Min(_partSize, upload.Length - stored);
                    while (filled < target && !ended && !interrupted)
                    {
                        try
                        {
                            var read = await body.ReadAsync(buffer.AsMemory(filled, target - filled), requestAborted);
                            ended = read == 0;
                            filled += read;
                        }
                        catch (Exception error) when (error is IOException or OperationCanceledException or BadHttpRequestException)
                        {
                            interrupted = true; // keep what arrived before the connection dropped
                        }
                    }

                    await SniffAsync(buffer, filled, stored);
                    if (stored + filled == upload.Length)
                    {
                        if (!ended && !interrupted && await body.ReadAsync(new byte[1], CancellationToken.None) > 0)
                        {
                            throw new UploadRejectedException(400, "Too many bytes", $"The upload is {upload.Length} bytes long; the body went past it.");
                        }

                        await CompleteAsync(buffer, filled);
                        return;
                    }

                    if (filled == _partSize)
                    {
                        await UploadPartAsync(buffer, filled);
                        stored += filled;
                        filled = 0;
                        await SaveAsync(stored, tail: 0);
                        continue;
                    }

                    // The body ended (or broke off) before filling a part: keep the bytes as the tail.
                    await KeepTailAsync(buffer, filled, stored);
                    return;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private async Task<int> LoadTailAsync(byte[] buffer, CancellationToken cancellationToken)
        {
            if (upload.TailLength == 0)
            {
                return 0;
            }

            using var tail = await services.Store.S3.GetObjectAsync(services.Store.Bucket, StorageKeys.UploadTail(upload.Id), cancellationToken);
            return await OriginalStore.FillAsync(tail.ResponseStream, buffer, (int)upload.TailLength, cancellationToken);
        }

        /// <summary>Once the first bytes are in, refuse what is not a video, and start the multipart upload with the right type.</summary>
        private async Task SniffAsync(byte[] buffer, int filled, long stored)
        {
            if (upload.ContentType is not null || stored > 0 || (filled < MediaSniffer.BytesNeeded && filled < upload.Length))
            {
                return;
            }

            upload.ContentType = MediaSniffer.ContainerType(buffer.AsSpan(0, filled)) ?? throw UploadRejectedException.Unsupported();
            upload.MultipartUploadId = await services.Originals.StartAsync(upload.Id, upload.ContentType, CancellationToken.None);
            await services.Db.SaveChangesAsync(CancellationToken.None);
        }

        // Storage writes below use CancellationToken.None: bytes that reached us are kept even when the client is gone.
        private async Task UploadPartAsync(byte[] buffer, int count)
        {
            var part = await services.Originals.UploadPartAsync(upload.Id, upload.MultipartUploadId!, upload.Parts.Count + 1, buffer, count, CancellationToken.None);
            upload.Parts.Add(new UploadedPart { Number = part.PartNumber ?? upload.Parts.Count + 1, ETag = part.ETag, Size = count });
        }

        private async Task KeepTailAsync(byte[] buffer, int filled, long stored)
        {
            var tailKey = StorageKeys.UploadTail(upload.Id);
            if (filled > 0)
            {
                await services.Store.S3.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = services.Store.Bucket,
                    Key = tailKey,
                    InputStream = new MemoryStream(buffer, 0, filled, writable: false),
                }, CancellationToken.None);
            }
            else if (upload.TailLength > 0)
            {
                await services.Store.DeleteAsync(tailKey, CancellationToken.None);
            }

            await SaveAsync(stored, filled);
        }

        private async Task SaveAsync(long stored, int tail)
        {
            upload.TailLength = tail;
            upload.Offset = stored + tail;
            upload.ExpiresAt = DateTimeOffset.UtcNow + services.Options.Value.ResumableExpiry;
            await services.Db.SaveChangesAsync(CancellationToken.None);
        }

        private async Task CompleteAsync(byte[] buffer, int filled)
        {
            if (filled > 0)
            {
                await UploadPartAsync(buffer, filled);
            }

            await services.Originals.CompleteAsync(upload.Id, upload.MultipartUploadId!,
                upload.Parts.Select(p => new PartETag(p.Number, p.ETag)).ToList(), CancellationToken.None);
            if (upload.TailLength > 0)
            {
                await services.Store.DeleteAsync(StorageKeys.UploadTail(upload.Id), CancellationToken.None);
            }

            upload.TailLength = 0;
            upload.Offset = upload.Length;
            upload.State = UploadState.Completed;
            upload.VideoId = upload.Id;
            await services.Intake.AcceptAsync(
                VideoDetails.From(upload.Title, upload.Description, upload.FileName).NewVideo(upload.Id, upload.OwnerId, upload.FileName, upload.Length, upload.ContentType!, sha256: null),
                CancellationToken.None);
        }
    }
}
