using System.Diagnostics;
using System.Globalization;
using Heimdex.Search.Indexes;
using Heimdex.Shared.Data;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Faces;
using Heimdex.Shared.Images;
using Heimdex.Shared.Models;
using Heimdex.Shared.People;
using Heimdex.Shared.Search;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using SkiaSharp;

namespace Heimdex.Search;

/// <summary>Search was asked before the vector indexes finished loading: it would silently miss scenes.</summary>
public sealed class SearchNotReadyException(string progress) : Exception($"Search is not available yet: {progress}.");

/// <summary>
/// Scene search, for the API's endpoints, the tests and the benchmarks. Text: Postgres full-text (weighted, English
/// stemming), the same for query words the library lacks corrected to the owner's nearest words (trigram similarity:
/// typos), and the query's sentence embedding against the scenes', fused by reciprocal rank. Image: the visual
/// descriptor of the picture against sampled frames, and the faces in it against faces in scenes. Only the owner's
/// scenes are ever ranked.
/// </summary>
public sealed class SceneSearch(
    HeimdexDbContext db, CommonWords commonWords, SceneIndexes indexes, SceneIndexLoader loader, LoadedModel<SentenceEncoder> encoder, LoadedModel<FaceAnalyzer> faces,
    IOptions<SearchOptions> options, IOptions<PeopleOptions> people)
{
    public const int MaxLimit = 100;
    public const int MaxQueryLength = 500;

    /// <summary>Visual descriptors this alike are the same or a near-duplicate picture (re-encoded, resized, re-coloured).</summary>
    public const float MinVisualSimilarity = 0.85f;

    /// <summary>How many candidates each ranking draws (the vector index's nearest, the best by words, by near spellings).</summary>
    public const int CandidatesPerRanking = 200;

    /// <summary>How many of the owner's words, nearest first, stand in for a query word the library lacks.</summary>
    private const int CorrectionsPerWord = 3;

    private const string HeadlineOptions =
        $"StartSel={Snippets.StartSelector}, StopSel={Snippets.StopSelector}, MaxWords=30, MinWords=10, MaxFragments=2";

    /// <summary>A candidate of one ranking (0 words, 1 near spellings) within the search's scope.</summary>
    private sealed record Candidate(int Ranking, Guid SceneId, double Value);

    /// <summary>
    /// A query word is common when PostgreSQL's statistics of the documents put it in more scenes than this (see
    /// <see cref="Search.CommonWords"/>): the scenes with only some of the query's words are drawn by its uncommon
    /// words first, then by its common words one at a time, the rarest first (see the search statement).
    /// </summary>
    public const int CommonWordScenes = 5000;

    /// <summary>
    /// The query as words, found once per search: <see cref="AnyWord"/> (a tsquery of any of them),
    /// <see cref="UncommonWord"/> (a tsquery of any of its words that are not common; none when all are),
    /// <see cref="CommonWords"/> (each of the others as a tsquery, the rarest first),
    /// <see cref="Lexemes"/> (how many words it asks for), the words typed, and
    /// each typed word the owner's library lacks with its nearest words there (<see cref="CorrectedFrom"/>[i] →
    /// <see cref="CorrectedTo"/>[i]).
    /// </summary>
    private sealed record QueryWords(
        string AnyWord, string? UncommonWord, string[] CommonWords, long Lexemes, string[] Typed, string[] CorrectedFrom, string[] CorrectedTo)
    {
        public static readonly QueryWords None = new("", null, [], 0, [], [], []);
    }

    /// <summary>The query's words as Postgres parses them: <see cref="QueryWords"/> less what <see cref="Search.CommonWords"/> decides.</summary>
    private sealed record WordsRow(string AnyWord, string[] Wanted, string[] Typed, string[] CorrectedFrom, string[] CorrectedTo);

    private sealed record Detail(Guid SceneId, Guid VideoId, string Title, int SceneIndex, double StartSeconds, double EndSeconds, string? ThumbnailKey, string Snippet,
        string[] MatchedWords, string[] CorrectedWords, double? SpokenStart, double? SpokenEnd, string? SpokenText, double? ShownStart);

    /// <summary>What is wrong with <paramref name="query"/> for <paramref name="owner"/>, per parameter; empty when it can be searched.</summary>
    public async Task<Dictionary<string, string[]>> ValidateAsync(Guid owner, SceneQuery query, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (query.Text.Length is 0 or > MaxQueryLength || query.Text != query.Text.Trim())
        {
            errors["q"] = [$"a query of 1 to {MaxQueryLength} characters is required"];
        }

        if (query.Limit is < 1 or > MaxLimit)
        {
            errors["limit"] = [$"limit is between 1 and {MaxLimit}"];
        }

        if (!SearchCursor.TryRead(query, out _))
        {
            errors["cursor"] = ["the cursor belongs to another query or other filters; start again without it"];
        }

        if (query.From >= query.To)
        {
            errors["to"] = ["to is after from"];
        }

        if (query.VideoId is { } videoId && !await db.Videos.AnyAsync(v => v.Id == videoId && v.OwnerId == owner, cancellationToken))
        {
            errors["videoId"] = ["you have no video with this id"];
        }

        if (query.PersonId is { } personId && !await db.People.AnyAsync(p => p.Id == personId && p.OwnerId == owner, cancellationToken))
        {
            errors["personId"] = ["you have no person with this id"];
        }

        return errors;
    }

    /// <summary>A page of the owner's scenes that match a query <see cref="ValidateAsync"/> accepted, each part's time marked on <paramref name="timing"/>.</summary>
    /// <exception cref="SearchNotReadyException">The vector indexes are still loading.</exception>
    public async Task<SearchResponse> SearchAsync(Guid owner, SceneQuery query, ServerTiming timing, CancellationToken cancellationToken)
    {
        if (!SearchCursor.TryRead(query, out var offset))
        {
            throw new ArgumentException("The cursor belongs to another query or other filters.", nameof(query));
        }

        EnsureLoaded();
        // Npgsql writes timestamptz from UTC only; a date given with another offset is the same instant in UTC.
        var (text, videoId, personId, from, to) = (query.Text, query.VideoId, query.PersonId, query.From?.ToUniversalTime(), query.To?.ToUniversalTime());
        // The query's meaning is the API's own work (the encoder, then the vector index) and its words are Postgres's:
        // the meaning is found on another thread while Postgres ranks the words, instead of one after the other.
        var embedding = Task.Run(() => timing.Time("embed", () => encoder.Value.Embed(text)), cancellationToken);
        var rankSince = Stopwatch.GetTimestamp();
        var filter = await VectorFilterAsync(owner, videoId, personId, from, to, cancellationToken);
        var nearest = Task.Run(async () =>
        {
            var vector = await embedding;
            return timing.Time("vectors", () => indexes.Text.Search(owner, vector, CandidatesPerRanking, filter));
        }, cancellationToken);
        var (words, candidates) = await RankWordsAsync(owner, text, videoId, personId, from, to, cancellationToken);
        timing.Mark("rank", rankSince);

        var meaning = await nearest;
        var hitsSince = Stopwatch.GetTimestamp();
        List<Ranked> RankedBy(int ranking) =>
            [.. candidates.Where(c => c.Ranking == ranking).OrderByDescending(c => c.Value).ThenBy(c => c.SceneId).Select(c => new Ranked(c.SceneId, c.Value))];
        var similarity = meaning.GroupBy(hit => hit.SceneId).ToDictionary(scene => scene.Key, scene => (double)scene.Max(hit => hit.Similarity));
        List<(Guid SceneId, SearchScore Score)> Fused(Func<Guid, bool> exists) =>
        [
            .. RankFusion.Fuse(RankedBy(0), RankedBy(1),
                    // Below the floor a scene's meaning is no reason to show it: it is found by its words or not at all.
                    [.. meaning.Where(hit => exists(hit.SceneId) && hit.Similarity >= options.Value.MinSemanticSimilarity)
                        .Take(CandidatesPerRanking).Select(hit => new Ranked(hit.SceneId, hit.Similarity))])
                .Select(hit => (hit.SceneId, new SearchScore(hit.Total, hit.Parts[0], hit.Parts[1], hit.Parts[2])
                {
                    Similarity = similarity.TryGetValue(hit.SceneId, out var cosine) ? Math.Round(cosine, 4) : null,
                })),
        ];
        // The words' candidates come from Postgres, but the vector index may still hold a scene whose video was just
        // deleted or reprocessed: the page is read as if all exist (the hits statement reads only scenes that do), and
        // only when one of its scenes is gone is it ranked again without the vector index's scenes that are gone. A
        // gone scene past the page can still offer a next page that turns out shorter, until the index reloads.
        var fused = Fused(_ => true);
        var page = fused.Skip(offset).Take(query.Limit).ToList();
        var hits = await HitsAsync(owner, words, page, cancellationToken);
        if (hits.Count < page.Count)
        {
            var existing = await ExistingAsync(owner, meaning, cancellationToken);
            fused = Fused(existing.Contains);
            page = [.. fused.Skip(offset).Take(query.Limit)];
            hits = await HitsAsync(owner, words, page, cancellationToken);
        }

        timing.Mark("hits", hitsSince);
        var next = offset + query.Limit < fused.Count ? SearchCursor.Write(query, offset + query.Limit) : null;
        return new SearchResponse(text, hits, next);
    }

    /// <summary>Which of the vector index's scenes still exist (the vector search applied the filters itself).</summary>
    private async Task<HashSet<Guid>> ExistingAsync(Guid owner, IReadOnlyList<(Guid SceneId, float Similarity)> found, CancellationToken cancellationToken)
    {
        var ids = found.Select(hit => hit.SceneId).Distinct().ToArray();
        return [.. await db.Scenes.Where(scene => scene.OwnerId == owner && ids.Contains(scene.Id)).Select(scene => scene.Id).ToListAsync(cancellationToken)];
    }

    /// <summary>
    /// The query's words (see <see cref="QueryWords"/>) and the owner's scenes in the filters' scope ranked by them:
    /// ranking 0 by the query's words, ranking 1 by the owner's words nearest to typed words the library lacks.
    /// </summary>
    private async Task<(QueryWords Words, List<Candidate> Candidates)> RankWordsAsync(
        Guid owner, string text, Guid? videoId, Guid? personId, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        // Any of the query's words, not all: speech recognition drops words, and ts_rank_cd still ranks scenes with more of them higher.
        var row = (await db.Database.SqlQuery<WordsRow>($"""
            WITH every AS (SELECT websearch_to_tsquery('english', {text})::text AS query),
            typed AS (
                SELECT DISTINCT word FROM regexp_split_to_table(lower({text}), {SceneDocuments.WordPattern}) AS word
                WHERE length(word) BETWEEN {SceneDocuments.MinWordLength} AND {SceneDocuments.MaxWordLength}
                  AND plainto_tsquery('english', word)::text <> ''),
            corrections AS (
                SELECT typed.word AS typed, near."Word" AS word
                FROM typed CROSS JOIN LATERAL (
                    SELECT w."Word" FROM "SearchWords" w WHERE w."OwnerId" = {owner} AND w."Word" % typed.word
                    ORDER BY similarity(w."Word", typed.word) DESC, w."Word" LIMIT {CorrectionsPerWord}) near
                WHERE NOT EXISTS (SELECT 1 FROM "SearchWords" w WHERE w."OwnerId" = {owner} AND w."Word" = typed.word))
            SELECT replace((SELECT query FROM every), ' & ', ' | ') AS "AnyWord",
                   ARRAY(SELECT DISTINCT m[2] FROM every, regexp_matches(every.query, '(!?)''((?:[^'']|'''')+)''', 'g') AS m
                         WHERE m[1] = '' ORDER BY 1) AS "Wanted",
                   ARRAY(SELECT word FROM typed ORDER BY word) AS "Typed",
                   ARRAY(SELECT typed FROM corrections ORDER BY typed, word) AS "CorrectedFrom",
                   ARRAY(SELECT word FROM corrections ORDER BY typed, word) AS "CorrectedTo"
            """).ToListAsync(cancellationToken)).Single();
        var common = await commonWords.GetAsync(cancellationToken);
        static string Quoted(string lexeme) => $"'{lexeme}'";
        var uncommon = row.Wanted.Where(lexeme => !common.ContainsKey(lexeme)).Select(Quoted).ToList();
        var words = new QueryWords(row.AnyWord, uncommon.Count == 0 ? null : string.Join(" | ", uncommon),
            [.. row.Wanted.Where(common.ContainsKey).OrderBy(lexeme => common[lexeme]).ThenBy(lexeme => lexeme, StringComparer.Ordinal).Select(Quoted)],
            row.Wanted.Length, row.Typed, row.CorrectedFrom, row.CorrectedTo);

        // One statement, one scope (the scenes under every filter, NOT MATERIALIZED, so each use names the owner's scenes
        // as its index does), two candidate lists: scenes with the query's words and scenes with the owner's words nearest
        // to query words the library lacks (typos). Each list is the best of the owner's matches, not the first matches
        // found. Scenes with the query's words: the best with every word (of several; the GIN index that starts with the
        // owner intersects the words' scenes at once), then the best with some of the query's uncommon words, and only
        // while those are fewer than a list, the best with its rarest common word, then its next rarest, and so on
        // ("ladder": each step adds one word's scenes not drawn yet). A common word matches most of a large library, and a
        // rarer word says more about a scene, as inverse document frequency would: ranking every scene with any of a
        // phrase's common words read hundreds of thousands of a large library's scenes where the rarest common word's are
        // enough. The RUM index of the owners' words ("OwnerWords", each word prefixed with the scene's owner;
        // scene_owner_query prefixes the query's) hands these out best first by all the query's words, reading the owner's
        // scenes of those words and no other owner's; a LATERAL or correlated subquery gives it the query as a value,
        // which it can order by (a join with "words" it cannot). Without words to correct, "corrected" has no row and its
        // branch reads no scene.
        var candidates = await db.Database.SqlQuery<Candidate>($"""
            WITH RECURSIVE scope AS NOT MATERIALIZED (
                SELECT s."Id", s."OwnerId", s."Document", s."OwnerWords" FROM "Scenes" s
                WHERE ({Typed(videoId, NpgsqlDbType.Uuid)} IS NULL OR s."VideoId" = {Typed(videoId, NpgsqlDbType.Uuid)})
                  AND ({Typed(personId, NpgsqlDbType.Uuid)} IS NULL
                       OR EXISTS (SELECT 1 FROM "Faces" f WHERE f."SceneId" = s."Id" AND f."PersonId" = {Typed(personId, NpgsqlDbType.Uuid)}))
                  AND (({Typed(from, NpgsqlDbType.TimestampTz)} IS NULL AND {Typed(to, NpgsqlDbType.TimestampTz)} IS NULL) OR EXISTS (
                      SELECT 1 FROM "Videos" v WHERE v."Id" = s."VideoId"
                        AND ({Typed(from, NpgsqlDbType.TimestampTz)} IS NULL OR v."CreatedAt" >= {Typed(from, NpgsqlDbType.TimestampTz)})
                        AND ({Typed(to, NpgsqlDbType.TimestampTz)} IS NULL OR v."CreatedAt" < {Typed(to, NpgsqlDbType.TimestampTz)})))),
            words AS (
                SELECT typed.every, typed.any, typed.common,
                       scene_owner_query(typed.any, {owner}) AS owned_any, scene_owner_query(typed.uncommon, {owner}) AS owned_uncommon
                FROM (SELECT websearch_to_tsquery('english', {text}) AS every, to_tsquery('english', {words.AnyWord}) AS any,
                             {Typed(words.UncommonWord, NpgsqlDbType.Text)}::tsquery AS uncommon, {words.CommonWords}::text[] AS common) typed),
            every_word AS (
                SELECT "Id" FROM scope, words WHERE {words.Lexemes > 1} AND "OwnerId" = {owner} AND "Document" @@ words.every
                ORDER BY ts_rank_cd("Document", words.every) DESC LIMIT {CandidatesPerRanking}),
            uncommon_words AS (
                SELECT m."Id" FROM words CROSS JOIN LATERAL (
                    SELECT "Id" FROM scope WHERE "OwnerWords" @@ words.owned_uncommon
                    ORDER BY "OwnerWords" <=> words.owned_uncommon LIMIT {CandidatesPerRanking}) m),
            ladder(step, drawn) AS (
                SELECT 0, ARRAY(SELECT "Id" FROM every_word UNION SELECT "Id" FROM uncommon_words)
                UNION ALL
                SELECT found.step + 1, found.drawn || ARRAY(
                    SELECT "Id" FROM scope
                    WHERE "OwnerWords" @@ scene_owner_query(words.common[found.step + 1]::tsquery, {owner}) AND "Id" <> ALL(found.drawn)
                    ORDER BY "OwnerWords" <=> words.owned_any LIMIT {CandidatesPerRanking} - cardinality(found.drawn))
                FROM ladder found, words WHERE found.step < cardinality(words.common) AND cardinality(found.drawn) < {CandidatesPerRanking}),
            corrected AS (
                SELECT query, scene_owner_query(query, {owner}) AS owned
                FROM (SELECT to_tsquery('english', string_agg(DISTINCT word, ' | ')) AS query FROM unnest({words.CorrectedTo}) AS word
                      HAVING count(*) > 0) typed)
            (SELECT 0 AS "Ranking", s."Id" AS "SceneId", ts_rank_cd(s."Document", words.any)::float8 AS "Value"
             FROM words, "Scenes" s
             WHERE s."Id" IN (SELECT unnest(drawn) FROM (SELECT drawn FROM ladder ORDER BY step DESC LIMIT 1) latest)
             ORDER BY 3 DESC, 2 LIMIT {CandidatesPerRanking})
            UNION ALL
            (SELECT 1, m."Id", ts_rank_cd(m."Document", corrected.query)::float8
             FROM corrected CROSS JOIN LATERAL (
                 SELECT "Id", "Document" FROM scope WHERE "OwnerWords" @@ corrected.owned
                 ORDER BY "OwnerWords" <=> corrected.owned LIMIT {CandidatesPerRanking}) m
             ORDER BY 3 DESC, 2 LIMIT {CandidatesPerRanking})
            """).ToListAsync(cancellationToken);
        return (words, candidates);
    }

    /// <summary>
    /// A parameter that may be null, typed either way: Npgsql runs a statement it prepared unprepared (parsed and
    /// planned again) whenever a parameter's type differs from the one it was prepared with, and a bare null has none.
    /// A new one for each use, since a parameter belongs to one command.
    /// </summary>
    private static NpgsqlParameter Typed(object? value, NpgsqlDbType type) => new() { NpgsqlDbType = type, Value = value ?? DBNull.Value };

    /// <summary>
    /// The query's filters as the vector index applies them, inside its search: the videos they allow (one video,
    /// those uploaded in the dates, those where the person appears) and, for a person, the scenes that show them.
    /// </summary>
    private async Task<SceneFilter?> VectorFilterAsync(
        Guid owner, Guid? videoId, Guid? personId, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        HashSet<Guid>? videos = videoId is { } only ? [only] : null;
        if (from is not null || to is not null)
        {
            var uploaded = await db.Videos.Where(v => v.OwnerId == owner && (from == null || v.CreatedAt >= from) && (to == null || v.CreatedAt < to))
                .Select(v => v.Id).ToListAsync(cancellationToken);
            videos = videos is null ? [.. uploaded] : [.. videos.Intersect(uploaded)];
        }

        HashSet<Guid>? scenes = null;
        if (personId is { } person)
        {
            var appearances = await db.Faces.Where(f => f.PersonId == person).Select(f => new { f.SceneId, f.VideoId }).Distinct().ToListAsync(cancellationToken);
            scenes = [.. appearances.Select(a => a.SceneId)];
            var shown = appearances.Select(a => a.VideoId).ToHashSet();
            videos = videos is null ? shown : [.. videos.Intersect(shown)];
        }

        return videos is null && scenes is null ? null : new SceneFilter(videos, scenes);
    }

    /// <summary>
    /// The owner's scenes with a sampled frame that looks like the image (visual descriptor cosine at or above
    /// <see cref="MinVisualSimilarity"/>) and scenes showing a face of the image (face cosine at or above the people
    /// match threshold), fused by reciprocal rank.
    /// </summary>
    /// <exception cref="InvalidDataException">The image cannot be decoded.</exception>
    /// <exception cref="ImageTooLargeException">The image has more pixels than are decoded.</exception>
    /// <exception cref="SearchNotReadyException">The vector indexes are still loading.</exception>
    public async Task<ImageSearchResponse> SearchByImageAsync(Guid owner, Stream content, string fileName, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);
        float[] descriptor;
        IReadOnlyList<AnalyzedFace> found;
        using (var image = SKData.Create(content))
        {
            descriptor = VisualDescriptor.Compute(image);
            found = faces.Value.Analyze(image);
        }

        EnsureLoaded();
        var match = people.Value;
        var recognisable = found.Where(face => Math.Min(face.Detection.Width, face.Detection.Height) >= match.MinFaceSize && face.Sharpness >= match.MinSharpness).ToList();
        var visual = RankFusion.BestPerScene(indexes.Visual.Search(owner, descriptor, limit * 8), MinVisualSimilarity);
        var byFace = RankFusion.BestPerScene(
            recognisable.SelectMany(face => indexes.Faces.Search(owner, face.Embedding, CandidatesPerRanking)), match.MatchThreshold);
        var (visualSimilarity, faceSimilarity) = (visual.ToDictionary(r => r.SceneId, r => r.Value), byFace.ToDictionary(r => r.SceneId, r => r.Value));
        var page = RankFusion.Fuse(visual, byFace).Take(limit)
            .Select(hit => (hit.SceneId, new SearchScore(hit.Total, null, null, null,
                visualSimilarity.TryGetValue(hit.SceneId, out var v) ? v : null, faceSimilarity.TryGetValue(hit.SceneId, out var f) ? f : null)))
            .ToList();
        return new ImageSearchResponse(fileName, recognisable.Count, await HitsAsync(owner, QueryWords.None, page, cancellationToken));
    }

    private void EnsureLoaded()
    {
        if (!loader.Loaded)
        {
            throw new SearchNotReadyException(loader.Progress);
        }
    }

    /// <summary>
    /// A page of scored scenes as hits: video, times, snippet (the query's words marked), the typed words each scene
    /// holds and the corrections of typed words it holds, thumbnail and playback URLs.
    /// </summary>
    private async Task<List<SearchHit>> HitsAsync(Guid owner, QueryWords words, List<(Guid SceneId, SearchScore Score)> page, CancellationToken cancellationToken)
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
}
