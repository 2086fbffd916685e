using System.Buffers.Text;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using Heimdex.Api.Uploads;
using Heimdex.Shared.Data;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Faces;
using Heimdex.Shared.Images;
using Heimdex.Shared.Models;
using Heimdex.Shared.People;
using Heimdex.Shared.Search;
using Heimdex.Shared.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace Heimdex.Api.Search;

/// <summary>
/// A hit's score: the reciprocal-rank-fused total and, per ranking, what it contributed to the total (text search) or
/// the similarity it found (image search: visual, face); null where that ranking did not find the scene. Text search
/// also says why and how strongly: the query's words the scene holds, the typed words corrected to words it holds
/// ("contry → country"), and the cosine similarity of the query's meaning to the scene's.
/// </summary>
public sealed record SearchScore(double Total, double? Lexical, double? Fuzzy, double? Semantic, double? Visual = null, double? Face = null)
{
    public IReadOnlyList<string>? MatchedWords { get; init; }

    public IReadOnlyList<string>? CorrectedWords { get; init; }

    public double? Similarity { get; init; }
}

/// <summary>What was said in a hit's scene with the query's words, and when.</summary>
public sealed record SpokenMatch(double StartSeconds, double EndSeconds, string Text);

/// <summary>
/// A scene that matched. <c>PlayFromSeconds</c> is where its <c>PlaybackUrl</c> starts: the first transcript segment
/// in the scene that says the query's words (<c>Spoken</c>), else where on-screen text with them first shows in the
/// scene, else the scene's start; playback ends with the scene.
/// </summary>
public sealed record SearchHit(
    Guid VideoId, string VideoTitle, Guid SceneId, int SceneIndex, double StartSeconds, double EndSeconds,
    SearchScore Score, string Snippet, string? ThumbnailUrl, string PlaybackUrl, double PlayFromSeconds, SpokenMatch? Spoken);

public sealed record SearchResponse(string Query, IReadOnlyList<SearchHit> Hits, string? NextCursor);

/// <summary>Scenes like an image; <c>FacesSearched</c> counts the faces in it large and sharp enough to recognise someone by.</summary>
public sealed record ImageSearchResponse(string FileName, int FacesSearched, IReadOnlyList<SearchHit> Hits);

/// <summary>
/// Scene search: Postgres full-text (weighted, English stemming), the same for query words the library lacks
/// corrected to the owner's nearest words (trigram similarity: typos), and the query's sentence embedding against
/// the scenes', fused by reciprocal rank. Only the caller's scenes are ever ranked.
/// </summary>
public static class SearchApi
{
    /// <summary>Reciprocal rank fusion's constant: a hit at rank r adds 1 / (K + r).</summary>
    private const int FusionK = 60;
    private const int CandidatesPerRanking = 200;

    /// <summary>With a person or date filter the vector candidates are filtered afterwards, so more are drawn.</summary>
    private const int FilteredSemanticCandidates = 5 * CandidatesPerRanking;

    /// <summary>How many of the owner's words, nearest first, stand in for a query word the library lacks.</summary>
    private const int CorrectionsPerWord = 3;

    /// <summary>At most this many scenes with only some of the query's words are ranked (see the search statement).</summary>
    private const int MatchesRanked = 5000;

    public const long MaxImageBytes = 20 * 1024 * 1024;

    /// <summary>Visual descriptors this alike are the same or a near-duplicate picture (re-encoded, resized, re-coloured).</summary>
    public const float MinVisualSimilarity = 0.85f;

    public sealed record SearchServices(HeimdexDbContext Db, SceneIndexes Indexes, SceneIndexLoader Loader, LoadedModel<SentenceEncoder> Encoder, IOptions<SearchOptions> Options);

    public sealed record ImageSearchServices(HeimdexDbContext Db, SceneIndexes Indexes, SceneIndexLoader Loader, LoadedModel<FaceAnalyzer> Faces, IOptions<PeopleOptions> People);

    private sealed record Ranked(Guid SceneId, double Value);

    /// <summary>A candidate of one ranking (0 words, 1 near spellings, 2 meaning) within the search's scope.</summary>
    private sealed record Candidate(int Ranking, Guid SceneId, double Value);

    /// <summary>
    /// The query as words, found once per search: <see cref="AnyWord"/> (a tsquery of any of them), the words typed,
    /// and each typed word the owner's library lacks with its nearest words there (<see cref="CorrectedFrom"/>[i] →
    /// <see cref="CorrectedTo"/>[i]).
    /// </summary>
    private sealed record QueryWords(string AnyWord, string[] Typed, string[] CorrectedFrom, string[] CorrectedTo)
    {
        public static readonly QueryWords None = new("", [], [], []);
    }

    private sealed record Detail(Guid SceneId, Guid VideoId, string Title, int SceneIndex, double StartSeconds, double EndSeconds, string? ThumbnailKey, string Snippet,
        string[] MatchedWords, string[] CorrectedWords, double? SpokenStart, double? SpokenEnd, string? SpokenText, double? ShownStart);

    public static RouteGroupBuilder MapSearchApi(this RouteGroupBuilder search)
    {
        search.MapGet("", SearchAsync)
            .WithName("SearchScenes")
            .WithSummary("Find scenes by words and by meaning")
            .WithDescription("`q` is matched as words (English stemming; title weighs most), as near spellings (typos) and by meaning. " +
                             "The `Server-Timing` header gives each part's milliseconds (embed, vectors, rank, hits). " +
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
                             "(text, visual, faces) the vectors held, owners, owners answered through an IVF index and builds running.")
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
        ClaimsPrincipal user, HttpResponse response, [AsParameters] SearchServices services, CancellationToken cancellationToken,
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

        // A cursor is an offset into one ranking: the query's and its filters', no other.
        var ranking = string.Join('\n', query, videoId, personId, from?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), to?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        var offset = 0;
        if (cursor is not null && !TryReadCursor(cursor, ranking, out offset))
        {
            errors["cursor"] = ["the cursor belongs to another query or other filters; start again without it"];
        }

        if (from >= to)
        {
            errors["to"] = ["to is after from"];
        }

        var owner = user.UserId();
        var db = services.Db;
        if (videoId is not null && !await db.Videos.AnyAsync(v => v.Id == videoId && v.OwnerId == owner, cancellationToken))
        {
            errors["videoId"] = ["you have no video with this id"];
        }

        if (personId is not null && !await db.People.AnyAsync(p => p.Id == personId && p.OwnerId == owner, cancellationToken))
        {
            errors["personId"] = ["you have no person with this id"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (Unready(services.Loader, response) is { } unready)
        {
            return unready;
        }

        var timing = new ServerTiming();
        var filtered = personId is not null || from is not null || to is not null;
        var embedding = services.Encoder.Value.Embed(query);
        timing.Mark("embed");
        var nearest = services.Indexes.Text.Search(owner, embedding, filtered ? FilteredSemanticCandidates : CandidatesPerRanking, videoId);
        timing.Mark("vectors");
        var nearestIds = nearest.Select(hit => hit.SceneId).ToArray();

        // Any of the query's words, not all: speech recognition drops words, and ts_rank_cd still ranks scenes with more of them higher.
        var words = (await db.Database.SqlQuery<QueryWords>($"""
            WITH typed AS (
                SELECT DISTINCT word FROM regexp_split_to_table(lower({query}), {SceneDocuments.WordPattern}) AS word
                WHERE length(word) BETWEEN {SceneDocuments.MinWordLength} AND {SceneDocuments.MaxWordLength}
                  AND plainto_tsquery('english', word)::text <> ''),
            corrections AS (
                SELECT typed.word AS typed, near."Word" AS word
                FROM typed CROSS JOIN LATERAL (
                    SELECT w."Word" FROM "SearchWords" w WHERE w."OwnerId" = {owner} AND w."Word" % typed.word
                    ORDER BY similarity(w."Word", typed.word) DESC, w."Word" LIMIT {CorrectionsPerWord}) near
                WHERE NOT EXISTS (SELECT 1 FROM "SearchWords" w WHERE w."OwnerId" = {owner} AND w."Word" = typed.word))
            SELECT replace(websearch_to_tsquery('english', {query})::text, ' & ', ' | ') AS "AnyWord",
                   ARRAY(SELECT word FROM typed ORDER BY word) AS "Typed",
                   ARRAY(SELECT typed FROM corrections ORDER BY typed, word) AS "CorrectedFrom",
                   ARRAY(SELECT word FROM corrections ORDER BY typed, word) AS "CorrectedTo"
            """).ToListAsync(cancellationToken)).Single();

        // One statement, one scope (the caller's scenes under every filter; NOT MATERIALIZED keeps each use on its
        // index), three candidate lists: scenes with the query's words, scenes with the owner's words nearest to query
        // words the library lacks (typos), and the vector index's nearest scenes checked against the scope. Scenes
        // with every word are ranked first-hand; of scenes with only some words at most MatchesRanked are ranked, so a
        // query of common words costs the same in a library of a million scenes. Without words to correct, "corrected"
        // has no row and its branch reads no scene.
        var candidates = await db.Database.SqlQuery<Candidate>($"""
            WITH scope AS NOT MATERIALIZED (
                SELECT s."Id", s."Document" FROM "Scenes" s JOIN "Videos" v ON v."Id" = s."VideoId"
                WHERE v."OwnerId" = {owner}
                  AND ({videoId}::uuid IS NULL OR s."VideoId" = {videoId})
                  AND ({personId}::uuid IS NULL OR EXISTS (SELECT 1 FROM "Faces" f WHERE f."SceneId" = s."Id" AND f."PersonId" = {personId}))
                  AND ({from}::timestamptz IS NULL OR v."CreatedAt" >= {from}) AND ({to}::timestamptz IS NULL OR v."CreatedAt" < {to})),
            words AS (SELECT websearch_to_tsquery('english', {query}) AS every, to_tsquery('english', {words.AnyWord}) AS any),
            corrected AS (
                SELECT to_tsquery('english', string_agg(DISTINCT word, ' | ')) AS query FROM unnest({words.CorrectedTo}) AS word
                HAVING count(*) > 0)
            (SELECT 0 AS "Ranking", m."Id" AS "SceneId", ts_rank_cd(m."Document", words.any)::float8 AS "Value"
             FROM words CROSS JOIN LATERAL (
                 (SELECT "Id", "Document" FROM scope WHERE "Document" @@ words.every LIMIT {MatchesRanked})
                 UNION ALL
                 (SELECT "Id", "Document" FROM scope WHERE "Document" @@ words.any AND NOT "Document" @@ words.every LIMIT {MatchesRanked})) m
             ORDER BY 3 DESC, 2 LIMIT {CandidatesPerRanking})
            UNION ALL
            (SELECT 1, m."Id", ts_rank_cd(m."Document", corrected.query)::float8
             FROM corrected CROSS JOIN LATERAL (
                 SELECT "Id", "Document" FROM scope WHERE "Document" @@ corrected.query LIMIT {MatchesRanked}) m
             ORDER BY 3 DESC, 2 LIMIT {CandidatesPerRanking})
            UNION ALL
            SELECT 2, "Id", 0 FROM scope WHERE "Id" = ANY({nearestIds})
            """).ToListAsync(cancellationToken);
        timing.Mark("rank");

        List<Ranked> RankedBy(int ranking) =>
            [.. candidates.Where(c => c.Ranking == ranking).OrderByDescending(c => c.Value).ThenBy(c => c.SceneId).Select(c => new Ranked(c.SceneId, c.Value))];
        var inScope = candidates.Where(c => c.Ranking == 2).Select(c => c.SceneId).ToHashSet();
        // Below the floor a scene's meaning is no reason to show it: it is found by its words or not at all.
        var similarity = nearest.GroupBy(hit => hit.SceneId).ToDictionary(scene => scene.Key, scene => (double)scene.Max(hit => hit.Similarity));
        var semantic = nearest.Where(hit => inScope.Contains(hit.SceneId) && hit.Similarity >= services.Options.Value.MinSemanticSimilarity)
            .Take(CandidatesPerRanking).Select(hit => new Ranked(hit.SceneId, hit.Similarity)).ToList();
        var fused = Fuse(RankedBy(0), RankedBy(1), semantic)
            .Select(hit => (hit.SceneId, new SearchScore(hit.Total, hit.Parts[0], hit.Parts[1], hit.Parts[2])
            {
                Similarity = similarity.TryGetValue(hit.SceneId, out var cosine) ? Math.Round(cosine, 4) : null,
            })).ToList();
        var page = fused.Skip(offset).Take(limit).ToList();
        var hits = await HitsAsync(db, owner, words, page, cancellationToken);
        timing.Mark("hits");
        response.Headers["Server-Timing"] = timing.ToString();
        var next = offset + limit < fused.Count ? WriteCursor(ranking, offset + limit) : null;
        return TypedResults.Ok(new SearchResponse(query, hits, next));
    }

    /// <summary>
    /// Scenes with a sampled frame that looks like the image (visual descriptor cosine at or above
    /// <see cref="MinVisualSimilarity"/>) and scenes showing a face of the image (face cosine at or above the people
    /// match threshold), fused by reciprocal rank.
    /// </summary>
    private static async Task<Results<Ok<ImageSearchResponse>, ProblemHttpResult>> SearchByImageAsync(
        IFormFile? file, ClaimsPrincipal user, HttpResponse response, [AsParameters] ImageSearchServices services, CancellationToken cancellationToken, int limit = 20)
    {
        if (limit is < 1 or > 100)
        {
            return TypedResults.Problem("limit is between 1 and 100.", statusCode: 400, title: "Unusable image search");
        }

        if (!ImageSniffer.TryAccept(file, MaxImageBytes, out _, out var problem))
        {
            return problem;
        }

        float[] descriptor;
        IReadOnlyList<AnalyzedFace> faces;
        await using (var content = file.OpenReadStream())
        {
            try
            {
                using var image = SKData.Create(content);
                descriptor = VisualDescriptor.Compute(image);
                faces = services.Faces.Value.Analyze(image);
            }
            catch (ImageTooLargeException tooLarge)
            {
                return TypedResults.Problem($"The image cannot be searched with: {tooLarge.Message}", statusCode: 413, title: "Image too large");
            }
            catch (InvalidDataException)
            {
                return TypedResults.Problem("The file could not be decoded as an image (JPEG, PNG or WebP).", statusCode: 415, title: "Unsupported image");
            }
        }

        if (Unready(services.Loader, response) is { } unready)
        {
            return unready;
        }

        var owner = user.UserId();
        var people = services.People.Value;
        var recognisable = faces.Where(face => Math.Min(face.Detection.Width, face.Detection.Height) >= people.MinFaceSize && face.Sharpness >= people.MinSharpness).ToList();
        // Several frames and faces per scene: a scene scores as its most alike one.
        var visual = BestPerScene(services.Indexes.Visual.Search(owner, descriptor, limit * 8), MinVisualSimilarity);
        var byFace = BestPerScene(
            recognisable.SelectMany(face => services.Indexes.Faces.Search(owner, face.Embedding, CandidatesPerRanking)), people.MatchThreshold);
        var (visualSimilarity, faceSimilarity) = (visual.ToDictionary(r => r.SceneId, r => r.Value), byFace.ToDictionary(r => r.SceneId, r => r.Value));
        var page = Fuse(visual, byFace).Take(limit)
            .Select(hit => (hit.SceneId, new SearchScore(hit.Total, null, null, null,
                visualSimilarity.TryGetValue(hit.SceneId, out var v) ? v : null, faceSimilarity.TryGetValue(hit.SceneId, out var f) ? f : null)))
            .ToList();
        return TypedResults.Ok(new ImageSearchResponse(file.FileName, recognisable.Count, await HitsAsync(services.Db, owner, QueryWords.None, page, cancellationToken)));
    }

    /// <summary>Until the vector indexes are loaded a search would silently miss scenes: it is refused, saying how far loading is.</summary>
    private static ProblemHttpResult? Unready(SceneIndexLoader loader, HttpResponse response)
    {
        if (loader.Loaded)
        {
            return null;
        }

        response.Headers.RetryAfter = "5";
        return TypedResults.Problem($"Search is not available yet: {loader.Progress}.", statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Search is starting");
    }

    private static List<Ranked> BestPerScene(IEnumerable<(Guid SceneId, float Similarity)> hits, double threshold) =>
        [.. hits.Where(hit => hit.Similarity >= threshold)
            .GroupBy(hit => hit.SceneId).Select(scene => new Ranked(scene.Key, scene.Max(hit => hit.Similarity)))
            .OrderByDescending(scene => scene.Value).ThenBy(scene => scene.SceneId)];

    private const string HeadlineOptions =
        $"StartSel={Snippets.StartSelector}, StopSel={Snippets.StopSelector}, MaxWords=30, MinWords=10, MaxFragments=2";

    /// <summary>
    /// A page of scored scenes as hits: video, times, snippet (the query's words marked), the typed words each scene
    /// holds and the corrections of typed words it holds, thumbnail and playback URLs.
    /// </summary>
    private static async Task<List<SearchHit>> HitsAsync(
        HeimdexDbContext db, Guid owner, QueryWords words, List<(Guid SceneId, SearchScore Score)> page, CancellationToken cancellationToken)
    {
        var pageIds = page.Select(p => p.SceneId).ToArray();
        var details = (await db.Database.SqlQuery<Detail>($"""
            SELECT s."Id" AS "SceneId", s."VideoId", v."Title", s."Index" AS "SceneIndex", s."StartSeconds", s."EndSeconds", s."ThumbnailKey",
                   coalesce(nullif(ts_headline('english', coalesce(s."SearchText", ''), to_tsquery('english', {words.AnyWord}),
                       {HeadlineOptions}), ''), v."Title") AS "Snippet",
                   ARRAY(SELECT word FROM unnest({words.Typed}) AS word WHERE s."Document" @@ plainto_tsquery('english', word) ORDER BY word) AS "MatchedWords",
                   ARRAY(SELECT c.typed || ' → ' || c.word FROM unnest({words.CorrectedFrom}, {words.CorrectedTo}) AS c(typed, word)
                         WHERE s."Document" @@ plainto_tsquery('english', c.word) ORDER BY 1) AS "CorrectedWords",
                   spoken."StartSeconds" AS "SpokenStart", spoken."EndSeconds" AS "SpokenEnd", spoken."Text" AS "SpokenText",
                   shown."StartSeconds" AS "ShownStart"
            FROM "Scenes" s JOIN "Videos" v ON v."Id" = s."VideoId"
            LEFT JOIN LATERAL (
                SELECT t."StartSeconds", t."EndSeconds", t."Text" FROM "TranscriptSegments" t
                WHERE t."VideoId" = s."VideoId" AND t."EndSeconds" > s."StartSeconds" AND t."StartSeconds" < s."EndSeconds"
                  AND to_tsvector('english', t."Text") @@ to_tsquery('english', {words.AnyWord})
                ORDER BY t."StartSeconds" LIMIT 1) spoken ON true
            LEFT JOIN LATERAL (
                SELECT greatest(o."StartSeconds", s."StartSeconds") AS "StartSeconds" FROM "OnScreenTexts" o
                WHERE o."VideoId" = s."VideoId" AND o."EndSeconds" > s."StartSeconds" AND o."StartSeconds" < s."EndSeconds"
                  AND to_tsvector('english', o."Text") @@ to_tsquery('english', {words.AnyWord})
                ORDER BY o."StartSeconds" LIMIT 1) shown ON true
            WHERE s."Id" = ANY({pageIds}) AND v."OwnerId" = {owner}
            """).ToListAsync(cancellationToken)).ToDictionary(d => d.SceneId);
        return [.. page.Where(p => details.ContainsKey(p.SceneId)).Select(p =>
        {
            var d = details[p.SceneId];
            var spoken = d is { SpokenStart: { } start, SpokenEnd: { } end, SpokenText: { } text } ? new SpokenMatch(start, end, text) : null;
            var playFrom = Math.Clamp(spoken?.StartSeconds ?? d.ShownStart ?? d.StartSeconds, d.StartSeconds, d.EndSeconds);
            var fragment = string.Create(CultureInfo.InvariantCulture, $"#t={playFrom:0.###},{d.EndSeconds:0.###}");
            var score = ReferenceEquals(words, QueryWords.None) ? p.Score : p.Score with { MatchedWords = d.MatchedWords, CorrectedWords = d.CorrectedWords };
            return new SearchHit(d.VideoId, d.Title, d.SceneId, d.SceneIndex, d.StartSeconds, d.EndSeconds, score, Snippets.Html(d.Snippet),
                d.ThumbnailKey is null ? null : $"/api/videos/{d.VideoId}/scenes/{d.SceneIndex}/thumbnail",
                $"/api/videos/{d.VideoId}/stream{fragment}", playFrom, spoken);
        })];
    }

    /// <summary>
    /// Reciprocal rank fusion: each ranking adds 1 / (K + rank) for the scenes it found (its part, null where it did
    /// not find the scene); ties broken by scene id, so pages are stable.
    /// </summary>
    private static List<(Guid SceneId, double Total, double?[] Parts)> Fuse(params List<Ranked>[] rankings)
    {
        var contributions = rankings.Select(ranking => ranking.Select((hit, rank) => (hit.SceneId, Part: 1.0 / (FusionK + rank + 1)))
            .GroupBy(hit => hit.SceneId).ToDictionary(scene => scene.Key, scene => scene.Max(hit => hit.Part))).ToList();
        return [.. contributions.SelectMany(parts => parts.Keys).Distinct()
            .Select(id =>
            {
                var parts = contributions.Select(part => part.TryGetValue(id, out var value) ? value : (double?)null).ToArray();
                return (SceneId: id, Total: parts.Sum(part => part ?? 0), Parts: parts);
            })
            .OrderByDescending(hit => hit.Total).ThenBy(hit => hit.SceneId)];
    }

    private static string WriteCursor(string ranking, int offset) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{offset}:{RankingTag(ranking)}"));

    private static bool TryReadCursor(string cursor, string ranking, out int offset)
    {
        offset = 0;
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor)).Split(':');
            return parts.Length == 2 && parts[1] == RankingTag(ranking) && int.TryParse(parts[0], CultureInfo.InvariantCulture, out offset) && offset >= 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static string RankingTag(string ranking) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(ranking)))[..16];
}
