using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Heimdex.Conventions;
using Heimdex.Search.Indexes;
using Heimdex.Shared.Data;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;
using Heimdex.Shared.Search;
using Heimdex.Shared.Videos;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using StackExchange.Redis;

namespace Heimdex.Bench;

/// <summary>
/// Whole search requests (<c>GET /api/search</c>) against a running graph at library sizes no test reaches. The
/// library is spread over <see cref="Users"/> users, one of them holding half of it; each scene's text is a generated
/// sentence and its vector that sentence's MiniLM embedding, written to Postgres as the pipeline writes them and
/// announced to the API as the worker announces them; upload dates spread over a year. Per size, clients search for
/// a while, half of their queries the large user's: words, a misspelled word, a phrase, within one video, within a
/// month of uploads; then one client alone, for what a request costs without waiting for the cores. Printed per kind
/// and user: p50/p95/p99 of the request as the client sees it and of each part the API reports in
/// <c>Server-Timing</c>; then recall@10 of the vector part against an exact scan at the candidate count search draws,
/// the API's resident memory, and how long a restarted API takes to answer again and to answer through its HNSW index
/// again. The bench's users and everything they own are deleted at the end (unless <c>--keep</c>).
/// </summary>
public sealed class SearchBenchmark(string dataDirectory, int[] sizes, int clients, TimeSpan duration, bool keep)
{
    private const int Users = 100;
    internal const int ScenesPerVideo = 200;
    private const int VideosPerBatch = 25;
    internal const int WordsPerScene = 16;
    internal const int VocabularySeed = 7;

    /// <summary>Titles and descriptions are drawn apart from the scenes' sentences, which come in <see cref="SentenceEmbeddings"/>' order.</summary>
    private const int TitleSeed = 13;
    public static readonly string[] Kinds = ["words", "typo", "phrase", "video", "dates"];
    private static readonly string[] Parts = ["embed", "vectors", "rank", "hits"];
    private static readonly DateTimeOffset FirstUpload = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private sealed record BenchUser(Guid Id, HttpClient Client, List<Guid> Videos)
    {
        public long Scenes { get; set; }
    }

    private sealed record Sample(string Kind, bool Large, double Milliseconds, Dictionary<string, double> Parts);

    public async Task RunAsync()
    {
        var graph = await RunningGraph.LoadAsync(dataDirectory);
        using var admin = graph.Client(graph.AdminKey);
        await using var dataSource = NpgsqlDataSource.Create(graph.ConnectionString(ConnectionNames.Database));
        var database = new DbContextOptionsBuilder<HeimdexDbContext>().UseNpgsql(dataSource).Options;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(graph.ConnectionString(ConnectionNames.Redis));
        var encoder = SentenceEncoder.Load(new ModelOptions());
        using var sentences = new SentenceEmbeddings(encoder);
        var text = new SyntheticText(VocabularySeed, samplingSeed: TitleSeed);
        var random = new Random(11);
        var users = new List<BenchUser>();
        for (var i = 0; i < Users; i++)
        {
            var (id, key) = await graph.CreateUserAsync($"bench-{i}");
            users.Add(new BenchUser(id, graph.Client(key), []));
        }

        // The large user's vectors, for the recall of the vector part.
        var largeVectors = new List<(Guid Video, (Guid SceneId, float[] Vector)[] Scenes)>();
        Console.WriteLine($"{Environment.ProcessorCount} cores; {Users} users (one with half the scenes); {ScenesPerVideo} scenes per video, " +
                          $"{WordsPerScene} words per scene; {clients} clients for {duration.TotalSeconds:0} s per size");
        try
        {
            foreach (var size in sizes.Order())
            {
                var (anonymousBefore, vectorsBefore, clock) = (graph.ApiAnonymousMiB(), (await StatusAsync(admin)).Text.Vectors, Stopwatch.StartNew());
                var added = 0L;
                foreach (var (user, index) in users.Select((user, index) => (user, index)))
                {
                    var target = index == 0 ? size / 2 : (size - size / 2) / (Users - 1);
                    while (user.Scenes < target)
                    {
                        var batch = (int)Math.Min(VideosPerBatch, (target - user.Scenes + ScenesPerVideo - 1) / ScenesPerVideo);
                        var written = await WriteVideosAsync(database, user.Id, batch, text, random, sentences);
                        foreach (var (videoId, _) in written)
                        {
                            await SceneChanges.PublishAsync(redis, videoId);
                        }

                        user.Videos.AddRange(written.Select(v => v.Video));
                        user.Scenes += batch * ScenesPerVideo;
                        added += batch * ScenesPerVideo;
                        if (index == 0)
                        {
                            largeVectors.AddRange(written);
                        }
                    }
                }

                var writing = clock.Elapsed;
                var indexed = (await WaitForIndexAsync(admin, vectorsBefore + added)).Text;
                var (resident, anonymous) = (graph.ApiResidentMiB(), graph.ApiAnonymousMiB());
                Console.WriteLine($"{size,9} scenes: written (with their embeddings) in {writing.TotalSeconds:0} s; searchable through the API's " +
                                  $"indexes {(clock.Elapsed - writing).TotalSeconds:0} s later (HNSW graphs {indexed.BuildsCompleted} built, " +
                                  $"{indexed.BuildsExtended} times extended, {indexed.VectorsBesideBuilds} vectors scanned beside them); " +
                                  $"API resident memory {resident:0} MiB, its own (anonymous) " +
                                  $"{anonymous:0} MiB (+{(anonymous - anonymousBefore) * 1024 * 1024 / added:0} bytes per added scene); the rest are " +
                                  "pages of mapped files: libraries, float vectors read (page cache)");
                // Autovacuum analyses a table this grown within a minute or so; the statistics that tell search which
                // words are common are then in place before the first search, as they are in a library that grew slowly.
                await using (var analyse = dataSource.CreateCommand("ANALYZE \"Scenes\""))
                {
                    await analyse.ExecuteNonQueryAsync();
                }

                await MeasureAsync(size, users, clients, random.Next());
                if (clients > 1)
                {
                    // The same searches one at a time: what a request costs, apart from waiting for the cores.
                    await MeasureAsync(size, users, 1, random.Next());
                }

                ReportRecall(size, users[0].Id, largeVectors, encoder, text);
                graph = await RestartApiAsync(graph, admin, vectorsBefore + added, size);
            }
        }
        finally
        {
            await CleanUpAsync(admin, database, redis, users);
        }
    }

    /// <summary>
    /// Videos of <see cref="ScenesPerVideo"/> generated sentences each with their MiniLM embeddings, titled by
    /// <paramref name="text"/>, uploaded on a random day of the year; written as the pipeline writes them, search
    /// documents and vocabulary included.
    /// </summary>
    private static async Task<List<(Guid Video, (Guid SceneId, float[] Vector)[] Scenes)>> WriteVideosAsync(
        DbContextOptions<HeimdexDbContext> database, Guid owner, int count, SyntheticText text, Random random, SentenceEmbeddings embedded)
    {
        await using var db = new HeimdexDbContext(database);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var written = new List<(Guid, (Guid, float[])[])>();
        for (var v = 0; v < count; v++)
        {
            var video = new Video
            {
                OwnerId = owner,
                Title = text.Sentence(4),
                Description = text.Sentence(12),
                OriginalFileName = "synthetic.mp4",
                ContentType = "video/mp4",
                DurationSeconds = ScenesPerVideo * 5,
                CreatedAt = FirstUpload.AddMinutes(random.Next(365 * 24 * 60)),
            };
            video.Resume(new HashSet<string>(), DateTimeOffset.UtcNow); // no stages left to run: indexed
            db.Videos.Add(video);
            var (sentences, vectors) = embedded.Next(ScenesPerVideo);
            var scenes = new (Guid, float[])[ScenesPerVideo];
            for (var i = 0; i < ScenesPerVideo; i++)
            {
                var scene = new Scene { VideoId = video.Id, OwnerId = owner, Index = i, StartSeconds = i * 5, EndSeconds = i * 5 + 5, SearchText = sentences[i] };
                db.Scenes.Add(scene);
                db.SceneEmbeddings.Add(new SceneEmbedding { SceneId = scene.Id, VideoId = video.Id, Space = SentenceEncoder.Space, Vector = vectors[i] });
                scenes[i] = (scene.Id, vectors[i]);
            }

            written.Add((video.Id, scenes));
        }

        await db.SaveChangesAsync();
        await SceneDocuments.UpdateAsync(db, [.. written.Select(w => w.Item1)], CancellationToken.None);
        return written;
    }

    /// <summary>Each of <paramref name="clients"/> searches back to back until the time is up; half the queries are the large user's.</summary>
    private async Task MeasureAsync(int size, List<BenchUser> users, int clients, int seed)
    {
        var samples = new ConcurrentBag<Sample>();
        var until = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var random = new Random(seed + client);
            var text = new SyntheticText(VocabularySeed, samplingSeed: seed + client);
            while (until.Elapsed < duration)
            {
                var large = random.Next(2) == 0;
                var user = large ? users[0] : users[1 + random.Next(users.Count - 1)];
                var kind = Kinds[random.Next(Kinds.Length)];
                var query = Uri.EscapeDataString(QueryText(text, kind));
                var from = FirstUpload.AddDays(random.Next(335));
                var filter = kind switch
                {
                    "video" => $"&videoId={user.Videos[random.Next(user.Videos.Count)]}",
                    "dates" => $"&from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(from.AddDays(30).ToString("O", CultureInfo.InvariantCulture))}",
                    _ => "",
                };
                var (milliseconds, parts) = await SearchAsync(user.Client, $"/api/search?q={query}{filter}&limit=20");
                samples.Add(new Sample(kind, large, milliseconds, parts));
            }
        })));

        Console.WriteLine($"{size,9} {samples.Count} searches in {duration.TotalSeconds:0} s ({samples.Count / duration.TotalSeconds:0.0}/s) by {clients} clients");
        Console.WriteLine($"{"",9} {"query",-8} {"user",-6} {"part",-9} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8}");
        foreach (var group in samples.GroupBy(s => (s.Kind, s.Large)).OrderBy(g => Array.IndexOf(Kinds, g.Key.Kind)).ThenBy(g => !g.Key.Large))
        {
            Report(group.Key.Kind, group.Key.Large ? "large" : "small", "request", [.. group.Select(s => s.Milliseconds)]);
            foreach (var part in Parts)
            {
                Report("", "", part, [.. group.Select(s => s.Parts.GetValueOrDefault(part))]);
            }
        }

        var all = samples.Select(s => s.Milliseconds).ToList();
        Report("all", "all", "request", all);
        var goal = size >= 1_000_000 ? 50 : size <= 100_000 ? 10 : double.NaN;
        if (!double.IsNaN(goal))
        {
            Console.WriteLine($"{size,9} goal p95 ≤ {goal} ms: {(Latency.Percentile(all, 95) <= goal ? "met" : "not met")}");
        }

        void Report(string kind, string user, string part, List<double> milliseconds) =>
            Console.WriteLine($"{"",9} {kind,-8} {user,-6} {part,-9} {Latency.Percentile(milliseconds, 50),8:0.0} " +
                              $"{Latency.Percentile(milliseconds, 95),8:0.0} {Latency.Percentile(milliseconds, 99),8:0.0}");
    }

    /// <summary>What a client of the bench types for a query of that kind.</summary>
    public static string QueryText(SyntheticText text, string kind) => kind switch
    {
        "typo" => text.Misspelled(text.SearchWord()),
        "phrase" => text.Sentence(8),
        _ => $"{text.SearchWord()} {text.SearchWord()}",
    };

    /// <summary>The large user's vectors in the API's sentence index, for queries of generated phrases.</summary>
    private static void ReportRecall(int size, Guid owner, List<(Guid Video, (Guid SceneId, float[] Vector)[] Scenes)> videos, SentenceEncoder encoder, SyntheticText text) =>
        SentenceIndexBenchmark.Report($"{size,9} vector part, large user", owner, videos, [.. Enumerable.Range(0, 200).Select(_ => encoder.Embed(text.Sentence(8)))]);

    /// <summary>Waits until the API holds the expected vectors, has no reload pending and no HNSW build running.</summary>
    private static async Task<IndexStatus> WaitForIndexAsync(HttpClient admin, long vectors) =>
        await WaitForStatusAsync(admin, status => status.PendingReloads == 0 && status.Text.Vectors >= vectors && status.Text.BuildsRunning == 0);

    private static async Task<IndexStatus> WaitForStatusAsync(HttpClient admin, Func<IndexStatus, bool> done)
    {
        while (true)
        {
            try
            {
                var status = await StatusAsync(admin);
                if (status.Loaded && done(status))
                {
                    return status;
                }
            }
            catch (HttpRequestException)
            {
                // The API is restarting.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>
    /// Kills the API (the AppHost starts it again, as after a crash) and times until search answers again — process
    /// start and the vectors loaded from its snapshot, and from Postgres those of videos changed since it was saved —
    /// and until the HNSW indexes are back (read from their snapshots).
    /// </summary>
    private async Task<RunningGraph> RestartApiAsync(RunningGraph graph, HttpClient admin, long vectors, int size)
    {
        var clock = Stopwatch.StartNew();
        Process.GetProcessById(graph.ApiPid).Kill();
        await RunningGraph.WaitForApiRestartAsync(dataDirectory, graph.ApiPid);
        var status = await WaitForStatusAsync(admin, _ => true);
        var answering = clock.Elapsed;
        status = await WaitForIndexAsync(admin, vectors);
        Console.WriteLine($"{size,9} API restarted: search answers after {answering.TotalSeconds:0.0} s ({status.VectorsLoaded} vectors loaded, " +
                          $"{status.VectorsFromSnapshot} of them from its snapshot), " +
                          $"through HNSW again after {clock.Elapsed.TotalSeconds:0.0} s ({status.Text.SnapshotsLoaded} read from snapshots, " +
                          $"{status.Text.BuildsCompleted} built)");
        // The first process the AppHost started may not be the one that answers (one that died at start is started
        // again): the graph as it is once search answers.
        return await RunningGraph.LoadAsync(dataDirectory);
    }

    private static async Task<(double Milliseconds, Dictionary<string, double> Parts)> SearchAsync(HttpClient client, string path)
    {
        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync(path);
        await response.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync();
        var elapsed = clock.Elapsed.TotalMilliseconds;
        var parts = string.Join(", ", response.Headers.GetValues("Server-Timing")).Split(", ").Select(entry => entry.Split(";dur="))
            .ToDictionary(pair => pair[0], pair => double.Parse(pair[1], CultureInfo.InvariantCulture));
        return (elapsed, parts);
    }

    /// <summary>Deletes the bench's users and their videos a batch at a time (one cascade over a million scenes outlasts any command timeout).</summary>
    private async Task CleanUpAsync(HttpClient admin, DbContextOptions<HeimdexDbContext> database, IConnectionMultiplexer redis, List<BenchUser> users)
    {
        if (keep)
        {
            Console.WriteLine($"kept: users {string.Join(", ", users.Select(u => u.Id))}");
            return;
        }

        await using var db = new HeimdexDbContext(database);
        foreach (var user in users)
        {
            foreach (var batch in user.Videos.Chunk(VideosPerBatch))
            {
                await db.Videos.Where(v => batch.Contains(v.Id)).ExecuteDeleteAsync(); // their scenes cascade
                foreach (var id in batch)
                {
                    await SceneChanges.PublishAsync(redis, id);
                }
            }

            await db.Users.Where(u => u.Id == user.Id).ExecuteDeleteAsync();
            user.Client.Dispose();
        }

        await WaitForStatusAsync(admin, status => status.PendingReloads == 0);
    }

    /// <summary>The parts of <c>GET /api/search/status</c> the bench waits on.</summary>
    private sealed record IndexStatus(bool Loaded, long VectorsLoaded, long VectorsFromSnapshot, int PendingReloads, VectorIndexStatus Text);

    private static async Task<IndexStatus> StatusAsync(HttpClient admin) =>
        (await admin.GetFromJsonAsync<IndexStatus>("/api/search/status"))!;
}
