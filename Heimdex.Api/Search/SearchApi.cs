using System.Security.Claims;
using Heimdex.Api.Uploads;
using Heimdex.Search;
using Heimdex.Search.Indexes;
using Heimdex.Shared.Images;
using Heimdex.Shared.Users;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heimdex.Api.Search;

/// <summary>The search endpoints: HTTP over <see cref="SceneSearch"/>, which ranks only the caller's scenes.</summary>
public static class SearchApi
{
    public const long MaxImageBytes = 20 * 1024 * 1024;

    public static RouteGroupBuilder MapSearchApi(this RouteGroupBuilder search)
    {
        search.MapGet("", SearchAsync)
            .WithName("SearchScenes")
            .WithSummary("Find scenes by words and by meaning")
            .WithDescription("`q` is matched as words (English stemming; title weighs most), as near spellings (typos) and by meaning. " +
                             "The `Server-Timing` header gives each part's milliseconds (embed, vectors, rank, hits; embed and vectors run beside rank). " +
                             "Filters: `videoId`, `personId` (scenes where that person appears), `from`/`to` (when the video was uploaded, " +
                             "ISO 8601). `limit` 1–100 (default 20); pass `nextCursor` back as `cursor`, with the same `q` and filters, for the next page. Each hit's " +
                             "`playbackUrl` plays that scene from `playFromSeconds` to its end (a media fragment on the ranged stream): from the " +
                             "first transcript segment that says the query's words (`spoken`), else where on-screen text with them first shows, " +
                             "else the scene's start; its `snippet` is HTML whose only " +
                             "elements are `<mark>` around the matched words, all other text escaped. Its `score` says why it matched: " +
                             "`matchedWords` (the query's words the scene holds), `correctedWords` (typed words corrected to words it holds), " +
                             "`similarity` (cosine of the query's meaning to the scene's); a scene found by meaning alone is returned only at " +
                             "or above `Search__MinSemanticSimilarity`, so a query about nothing in the library finds nothing. While the API is " +
                             "still loading its vector indexes search answers 503 with `Retry-After`.")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        search.MapGet("status", (SceneIndexLoader loader) => TypedResults.Ok(loader.Status))
            .WithName("SearchIndexStatus")
            .WithSummary("What the search indexes hold (administrators)")
            .WithDescription("Whether the API's in-memory vector indexes finished loading, reloads still pending, and per space " +
                             "(text, visual, faces) the vectors held, owners, owners answered through an HNSW index, builds running, done and read from snapshots, and the last problem building or saving one.")
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        search.MapPost("image", SearchByImageAsync).WithBodyLimit(MaxImageBytes + RequestBodyLimits.FormOverheadBytes)
            .WithName("SearchScenesByImage")
            .WithSummary("Find scenes that look like an image, or show the faces in it")
            .WithDescription("Multipart form with the image in `file` (JPEG, PNG or WebP, at most 20 MiB). Finds scenes with the same or a " +
                             "near-duplicate frame (robust to resizing and recompression; `score.visual` is the descriptor similarity, " +
                             "0.85–1) and, when the image shows faces large and sharp enough to recognise, scenes where those faces " +
                             "appear (`score.face` is the face similarity, from the people match threshold up). Both rankings are " +
                             "fused by reciprocal rank into `score.total`; `facesSearched` says how many faces were used. `limit` 1–100.")
            .DisableAntiforgery()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return search;
    }

    private static async Task<Results<Ok<SearchResponse>, ValidationProblem, ProblemHttpResult>> SearchAsync(
        ClaimsPrincipal user, HttpResponse response, SceneSearch search, CancellationToken cancellationToken,
        string? q = null, Guid? videoId = null, Guid? personId = null, DateTimeOffset? from = null, DateTimeOffset? to = null, int limit = 20, string? cursor = null)
    {
        var query = new SceneQuery(q?.Trim() ?? "", videoId, personId, from, to, limit, cursor);
        var owner = user.UserId();
        if (await search.ValidateAsync(owner, query, cancellationToken) is { Count: > 0 } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        try
        {
            var timing = new ServerTiming();
            var found = await search.SearchAsync(owner, query, timing, cancellationToken);
            response.Headers["Server-Timing"] = timing.ToString();
            return TypedResults.Ok(found);
        }
        catch (SearchNotReadyException notReady)
        {
            return NotReady(notReady, response);
        }
    }

    private static async Task<Results<Ok<ImageSearchResponse>, ProblemHttpResult>> SearchByImageAsync(
        IFormFile? file, ClaimsPrincipal user, HttpResponse response, SceneSearch search, CancellationToken cancellationToken, int limit = 20)
    {
        if (limit is < 1 or > SceneSearch.MaxLimit)
        {
            return TypedResults.Problem($"limit is between 1 and {SceneSearch.MaxLimit}.", statusCode: 400, title: "Unusable image search");
        }

        if (!ImageSniffer.TryAccept(file, MaxImageBytes, out _, out var problem))
        {
            return problem;
        }

        await using var content = file.OpenReadStream();
        try
        {
            return TypedResults.Ok(await search.SearchByImageAsync(user.UserId(), content, file.FileName, limit, cancellationToken));
        }
        catch (ImageTooLargeException tooLarge)
        {
            return TypedResults.Problem($"The image cannot be searched with: {tooLarge.Message}", statusCode: 413, title: "Image too large");
        }
        catch (InvalidDataException)
        {
            return TypedResults.Problem("The file could not be decoded as an image (JPEG, PNG or WebP).", statusCode: 415, title: "Unsupported image");
        }
        catch (SearchNotReadyException notReady)
        {
            return NotReady(notReady, response);
        }
    }

    /// <summary>Until the vector indexes are loaded a search would silently miss scenes: it is refused, saying how far loading is.</summary>
    private static ProblemHttpResult NotReady(SearchNotReadyException notReady, HttpResponse response)
    {
        response.Headers.RetryAfter = "5";
        return TypedResults.Problem(notReady.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Search is starting");
    }
}
