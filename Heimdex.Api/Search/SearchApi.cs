using System.Buffers.Text;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using Heimdex.Shared.Data;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;
using Heimdex.Shared.Search;
using Heimdex.Shared.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Api.Search;

/// <summary>A hit's score: the fused total and the part each ranking contributed (null where it did not find the scene).</summary>
public sealed record SearchScore(double Total, double? Lexical, double? Fuzzy, double? Semantic, double? Visual = null);

public sealed record SearchHit(
    Guid VideoId, string VideoTitle, Guid SceneId, int SceneIndex, double StartSeconds, double EndSeconds,
    SearchScore Score, string Snippet, string? ThumbnailUrl, string PlaybackUrl);

public sealed record SearchResponse(string Query, IReadOnlyList<SearchHit> Hits, string? NextCursor);

/// <summary>
/// Scene search: Postgres full-text (weighted, English stemming), trigram word similarity (typos) and the query's
/// sentence embedding against the scenes', fused by reciprocal rank. Only the caller's scenes are ever ranked.
/// </summary>
public static class SearchApi
{
    /// <summary>Reciprocal rank fusion's constant: a hit at rank r adds 1 / (K + r).</summary>
    private const int FusionK = 60;
    private const int CandidatesPerRanking = 200;

    /// <summary>pg_trgm's default (0.6) misses a one-letter typo in a short word ("contry" is 0.57 like "country").</summary>
    private const string WordSimilarityThreshold = "0.45";

    public const long MaxImageBytes = 20 * 1024 * 1024;

    /// <summary>Visual descriptors this alike are the same or a near-duplicate picture (re-encoded, resized, re-coloured).</summary>
    public const float MinVisualSimilarity = 0.85f;

    public sealed record SearchServices(HeimdexDbContext Db, SceneIndexes Indexes, LoadedModel<SentenceEncoder> Encoder);

    private sealed record Ranked(Guid SceneId, double Value);

    private sealed record Detail(Guid SceneId, Guid VideoId, string Title, int SceneIndex, double StartSeconds, double EndSeconds, string? ThumbnailKey, string Snippet);

    public static RouteGroupBuilder MapSearchApi(this RouteGroupBuilder search)
    {
        search.MapGet("", SearchAsync)
            .WithName("SearchScenes")
            .WithSummary("Find scenes by words and by meaning")
            .WithDescription("`q` is matched as words (English stemming; title weighs most), as near spellings (typos) and by meaning. " +
                             "Filters: `videoId`, `personId` (scenes where that person appears), `from`/`to` (when the video was uploaded, " +
                             "ISO 8601). `limit` 1–100 (default 20); pass `nextCursor` back as `cursor` for the next page. Each hit's " +
                             "`playbackUrl` plays exactly that scene (a media fragment on the ranged stream).");
        search.MapPost("image", SearchByImageAsync)
            .WithName("SearchScenesByImage")
            .WithSummary("Find scenes that look like an image")
            .WithDescription("Multipart form with the image in `file` (JPEG, PNG or WebP). Finds the same or near-duplicate frames, " +
                             "robust to resizing and recompression; `score.visual` is the descriptor similarity (0.85–1).")
            .DisableAntiforgery()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return search;
    }

    private static async Task<Results<Ok<SearchResponse>, ValidationProblem>> SearchAsync(
        ClaimsPrincipal user, [AsParameters] SearchServices services, CancellationToken cancellationToken,
        string? q = null, Guid? videoId = null, Guid? personId = null, DateTimeOffset? from = null, DateTimeOffset? to = null, int limit = 20, string? cursor = null)
    {
        var query = q?.Trim() ?? "";
        var errors = new Dictionary<string, string[]>();
        if (query.Length is 0 or > 500)
        {
            errors["q"] = ["a query of 1 to 500 characters is required"];
        }

        if (limit is < 1 or > 100)
        {
            errors["limit"] = ["limit is between 1 and 100"];
        }

        var offset = 0;
        if (cursor is not null && !TryReadCursor(cursor, query, out offset))
        {
            errors["cursor"] = ["the cursor does not belong to this query; start again without it"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var owner = user.UserId();
        var db = services.Db;
        // Any of the query's words, not all: speech recognition drops words, and ts_rank_cd still ranks scenes with more of them higher.
        var anyWord = (await db.Database.SqlQuery<string>($"""
            SELECT replace(websearch_to_tsquery('english', {query})::text, ' & ', ' | ') AS "Value"
            """).ToListAsync(cancellationToken)).Single();
        var lexical = await db.Database.SqlQuery<Ranked>($"""
            SELECT s."Id" AS "SceneId", ts_rank_cd(s."Document", to_tsquery('english', {anyWord}))::float8 AS "Value"
            FROM "Scenes" s JOIN "Videos" v ON v."Id" = s."VideoId"
            WHERE v."OwnerId" = {owner} AND s."Document" @@ to_tsquery('english', {anyWord})
              AND ({videoId}::uuid IS NULL OR s."VideoId" = {videoId})
              AND ({personId}::uuid IS NULL OR EXISTS (SELECT 1 FROM "Faces" f WHERE f."SceneId" = s."Id" AND f."PersonId" = {personId}))
              AND ({from}::timestamptz IS NULL OR v."CreatedAt" >= {from}) AND ({to}::timestamptz IS NULL OR v."CreatedAt" < {to})
            ORDER BY 2 DESC, 1 LIMIT {CandidatesPerRanking}
            """).ToListAsync(cancellationToken);
        await using var fuzzyTransaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT set_config('pg_trgm.word_similarity_threshold', {WordSimilarityThreshold}, true)", cancellationToken);
        var fuzzy = await db.Database.SqlQuery<Ranked>($"""
            SELECT s."Id" AS "SceneId", word_similarity({query}, s."SearchText")::float8 AS "Value"
            FROM "Scenes" s JOIN "Videos" v ON v."Id" = s."VideoId"
            WHERE v."OwnerId" = {owner} AND {query} <% s."SearchText"
              AND ({videoId}::uuid IS NULL OR s."VideoId" = {videoId})
              AND ({personId}::uuid IS NULL OR EXISTS (SELECT 1 FROM "Faces" f WHERE f."SceneId" = s."Id" AND f."PersonId" = {personId}))
              AND ({from}::timestamptz IS NULL OR v."CreatedAt" >= {from}) AND ({to}::timestamptz IS NULL OR v."CreatedAt" < {to})
            ORDER BY 2 DESC, 1 LIMIT {CandidatesPerRanking}
            """).ToListAsync(cancellationToken);
        await fuzzyTransaction.CommitAsync(cancellationToken);
        var semantic = services.Indexes.Text.Search(owner, services.Encoder.Value.Embed(query), CandidatesPerRanking, videoId)
            .Select(hit => new Ranked(hit.SceneId, hit.Similarity)).ToList();
        if (personId is not null || from is not null || to is not null)
        {
            var ids = semantic.Select(s => s.SceneId).ToArray();
            var allowed = (await db.Database.SqlQuery<Guid>($"""
                SELECT s."Id" AS "Value" FROM "Scenes" s JOIN "Videos" v ON v."Id" = s."VideoId"
                WHERE s."Id" = ANY({ids})
                  AND ({personId}::uuid IS NULL OR EXISTS (SELECT 1 FROM "Faces" f WHERE f."SceneId" = s."Id" AND f."PersonId" = {personId}))
                  AND ({from}::timestamptz IS NULL OR v."CreatedAt" >= {from}) AND ({to}::timestamptz IS NULL OR v."CreatedAt" < {to})
                """).ToListAsync(cancellationToken)).ToHashSet();
            semantic = [.. semantic.Where(s => allowed.Contains(s.SceneId))];
        }

        var fused = Fuse(lexical, fuzzy, semantic);
        var page = fused.Skip(offset).Take(limit).ToList();
        var hits = await HitsAsync(db, owner, anyWord, page, cancellationToken);
        var next = offset + limit < fused.Count ? WriteCursor(query, offset + limit) : null;
        return TypedResults.Ok(new SearchResponse(query, hits, next));
    }

    /// <summary>
    /// Scenes with a sampled frame that looks like the image (visual descriptor cosine at or above
    /// <see cref="MinVisualSimilarity"/>), most alike first.
    /// </summary>
    private static async Task<Results<Ok<SearchResponse>, ProblemHttpResult>> SearchByImageAsync(
        IFormFile? file, ClaimsPrincipal user, [AsParameters] SearchServices services, CancellationToken cancellationToken, int limit = 20)
    {
        if (file is null || file.Length == 0 || file.Length > MaxImageBytes || limit is < 1 or > 100)
        {
            return TypedResults.Problem($"Send one image (JPEG, PNG or WebP, at most {MaxImageBytes / 1024 / 1024} MiB) as the form field `file`; limit is 1–100.",
                statusCode: 400, title: "Unusable image search");
        }

        float[] descriptor;
        await using (var content = file.OpenReadStream())
        {
            try
            {
                using var data = SkiaSharp.SKData.Create(content);
                descriptor = VisualDescriptor.Compute(data);
            }
            catch (InvalidDataException)
            {
                return TypedResults.Problem("The file is not an image that can be decoded (JPEG, PNG or WebP).", statusCode: 415, title: "Unsupported image");
            }
        }

        var owner = user.UserId();
        // Several frames per scene: the scene scores as its most alike frame.
        var alike = services.Indexes.Visual.Search(owner, descriptor, limit * 8)
            .Where(hit => hit.Similarity >= MinVisualSimilarity)
            .GroupBy(hit => hit.SceneId).Select(scene => (SceneId: scene.Key, Similarity: scene.Max(hit => hit.Similarity)))
            .OrderByDescending(scene => scene.Similarity).ThenBy(scene => scene.SceneId).Take(limit)
            .Select(scene => (scene.SceneId, new SearchScore(scene.Similarity, null, null, null, scene.Similarity)))
            .ToList();
        return TypedResults.Ok(new SearchResponse(file.FileName, await HitsAsync(services.Db, owner, "", alike, cancellationToken), null));
    }

    /// <summary>A page of scored scenes as hits: video, times, snippet (words of <paramref name="anyWord"/> marked), thumbnail and playback URLs.</summary>
    private static async Task<List<SearchHit>> HitsAsync(
        HeimdexDbContext db, Guid owner, string anyWord, List<(Guid SceneId, SearchScore Score)> page, CancellationToken cancellationToken)
    {
        var pageIds = page.Select(p => p.SceneId).ToArray();
        var details = (await db.Database.SqlQuery<Detail>($"""
            SELECT s."Id" AS "SceneId", s."VideoId", v."Title", s."Index" AS "SceneIndex", s."StartSeconds", s."EndSeconds", s."ThumbnailKey",
                   coalesce(nullif(ts_headline('english', coalesce(s."SearchText", ''), to_tsquery('english', {anyWord}),
                       'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=10, MaxFragments=2'), ''), v."Title") AS "Snippet"
            FROM "Scenes" s JOIN "Videos" v ON v."Id" = s."VideoId"
            WHERE s."Id" = ANY({pageIds}) AND v."OwnerId" = {owner}
            """).ToListAsync(cancellationToken)).ToDictionary(d => d.SceneId);
        return [.. page.Where(p => details.ContainsKey(p.SceneId)).Select(p =>
        {
            var d = details[p.SceneId];
            var fragment = string.Create(CultureInfo.InvariantCulture, $"#t={d.StartSeconds:0.###},{d.EndSeconds:0.###}");
            return new SearchHit(d.VideoId, d.Title, d.SceneId, d.SceneIndex, d.StartSeconds, d.EndSeconds, p.Score, d.Snippet,
                d.ThumbnailKey is null ? null : $"/api/videos/{d.VideoId}/scenes/{d.SceneIndex}/thumbnail",
                $"/api/videos/{d.VideoId}/stream{fragment}");
        })];
    }

    /// <summary>Reciprocal rank fusion: each ranking adds 1 / (K + rank) for the scenes it found; ties broken by scene id, so pages are stable.</summary>
    private static List<(Guid SceneId, SearchScore Score)> Fuse(List<Ranked> lexical, List<Ranked> fuzzy, List<Ranked> semantic)
    {
        static Dictionary<Guid, double> Contributions(List<Ranked> ranking) =>
            ranking.Select((hit, rank) => (hit.SceneId, Part: 1.0 / (FusionK + rank + 1))).GroupBy(h => h.SceneId).ToDictionary(g => g.Key, g => g.Max(h => h.Part));

        var (l, f, s) = (Contributions(lexical), Contributions(fuzzy), Contributions(semantic));
        return l.Keys.Union(f.Keys).Union(s.Keys)
            .Select(id =>
            {
                double? Part(Dictionary<Guid, double> parts) => parts.TryGetValue(id, out var part) ? part : null;
                var (lexicalPart, fuzzyPart, semanticPart) = (Part(l), Part(f), Part(s));
                return (id, new SearchScore((lexicalPart ?? 0) + (fuzzyPart ?? 0) + (semanticPart ?? 0), lexicalPart, fuzzyPart, semanticPart));
            })
            .OrderByDescending(hit => hit.Item2.Total).ThenBy(hit => hit.id)
            .ToList();
    }

    private static string WriteCursor(string query, int offset) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{offset}:{QueryTag(query)}"));

    private static bool TryReadCursor(string cursor, string query, out int offset)
    {
        offset = 0;
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor)).Split(':');
            return parts.Length == 2 && parts[1] == QueryTag(query) && int.TryParse(parts[0], CultureInfo.InvariantCulture, out offset) && offset >= 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static string QueryTag(string query) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(query)))[..16];
}
