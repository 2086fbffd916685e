using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Heimdex.Search.Indexes;
using Heimdex.Conventions;
using Heimdex.Shared;
using Heimdex.Shared.Data;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Search;
using Heimdex.Shared.Videos;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using StackExchange.Redis;

namespace Heimdex.Bench;

/// <summary>
/// Whole search requests (<c>GET /api/search</c>) against a running graph at library sizes no test reaches. One bench
/// user's library grows to each size: videos of <see cref="ScenesPerVideo"/> scenes with English-like text and
/// synthetic 384-d embeddings, written to Postgres as the pipeline writes them and announced to the API as the
/// worker announces them. Per size and query kind it prints p50/p95 of the request as the client sees it and of
/// each part the API reports in <c>Server-Timing</c> (query embedding, vector index, Postgres ranking, hit details),
/// the API's resident memory per added scene, and how long a restarted API takes to load the library again. The bench user and everything it owns are deleted at the end (unless <c>--keep</c>, to inspect query plans).
/// </summary>
public sealed class SearchBenchmark(string dataDirectory, int[] sizes, bool keep)
{
    private const int ScenesPerVideo = 200;
    private const int VideosPerBatch = 25;
    private const int WordsPerScene = 20;
    private const int QueriesPerKind = 60;
    private static readonly string[] Parts = ["embed", "vectors", "rank", "hits"];

    public async Task RunAsync()
    {
        var graph = await RunningGraph.LoadAsync(dataDirectory);
        using var admin = graph.Client(graph.AdminKey);
        var (userId, key) = await graph.CreateUserAsync("bench");
        using var client = graph.Client(key);

        await using var dataSource = NpgsqlDataSource.Create(graph.ConnectionString(ConnectionNames.Database));
        var database = new DbContextOptionsBuilder<HeimdexDbContext>().UseNpgsql(dataSource).Options;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(graph.ConnectionString(ConnectionNames.Redis));
        var text = new SyntheticText(seed: 7);
        using var vectors = SyntheticEmbeddings.Library(SentenceEncoder.Dimensions, topics: 5000, spread: 1.0f, seed: 5).GetEnumerator();
        var videos = new List<Guid>();
        Console.WriteLine($"{Environment.ProcessorCount} cores; {ScenesPerVideo} scenes per video, {WordsPerScene} words per scene; {QueriesPerKind} queries per kind");
        Console.WriteLine($"{"scenes",9} {"query",-8} {"part",-9} {"p50 ms",8} {"p95 ms",8}");
        try
        {
            foreach (var size in sizes.Order())
            {
                var (residentBefore, vectorsBefore, clock) = (graph.ApiResidentMiB(), (await StatusAsync(admin)).Text.Vectors, Stopwatch.StartNew());
                var added = 0;
                while (videos.Count * ScenesPerVideo < size)
                {
                    var batch = Math.Min(VideosPerBatch, (size - videos.Count * ScenesPerVideo + ScenesPerVideo - 1) / ScenesPerVideo);
                    var ids = await WriteVideosAsync(database, userId, batch, text, vectors);
                    foreach (var id in ids)
                    {
                        await SceneChanges.PublishAsync(redis, id);
                    }

                    (videos, added) = ([.. videos, .. ids], added + batch * ScenesPerVideo);
                }

                var written = clock.Elapsed;
                var status = await WaitForIndexAsync(admin, vectorsBefore + added);
                var loaded = clock.Elapsed;
                var perScene = (graph.ApiResidentMiB() - residentBefore) * 1024 * 1024 / added;
                Console.WriteLine($"{size,9} library: written in {written.TotalSeconds:0} s; loaded by the API (and HNSW built: {status.Text.ApproximateOwners > 0}) " +
                                  $"{(loaded - written).TotalSeconds:0} s later; API resident memory +{perScene:0} bytes per added scene");
                await MeasureAsync(client, size, "words", () => $"{text.SearchWord()} {text.SearchWord()} {text.SearchWord()}");
                await MeasureAsync(client, size, "typo", () => text.Misspelled(text.SearchWord()));
                await MeasureAsync(client, size, "phrase", () => text.Sentence(8));
                graph = await RestartApiAsync(graph, admin, vectorsBefore + added, size);
            }
        }
        finally
        {
            if (keep)
            {
                Console.WriteLine($"kept: user {userId}, {videos.Count} videos");
            }
            else
            {
                // A batch of videos at a time: one cascade over a million scenes outlasts any command timeout.
                await using var db = new HeimdexDbContext(database);
                foreach (var batch in videos.Chunk(VideosPerBatch))
                {
                    await db.Videos.Where(v => batch.Contains(v.Id)).ExecuteDeleteAsync(); // their scenes cascade
                    foreach (var id in batch)
                    {
                        await SceneChanges.PublishAsync(redis, id);
                    }
                }

                await db.Users.Where(u => u.Id == userId).ExecuteDeleteAsync();
            }
        }
    }

    private static async Task<Guid[]> WriteVideosAsync(DbContextOptions<HeimdexDbContext> database, Guid owner, int count, SyntheticText text, IEnumerator<float[]> vectors)
    {
        await using var db = new HeimdexDbContext(database);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var ids = new Guid[count];
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
            };
            video.Resume(new HashSet<string>(), DateTimeOffset.UtcNow); // no stages left to run: indexed
            db.Videos.Add(video);
            ids[v] = video.Id;
            for (var i = 0; i < ScenesPerVideo; i++)
            {
                var scene = new Scene { VideoId = video.Id, OwnerId = video.OwnerId, Index = i, StartSeconds = i * 5, EndSeconds = i * 5 + 5, SearchText = text.Sentence(WordsPerScene) };
                vectors.MoveNext();
                db.Scenes.Add(scene);
                db.SceneEmbeddings.Add(new SceneEmbedding { SceneId = scene.Id, VideoId = video.Id, Space = SentenceEncoder.Space, Vector = vectors.Current });
            }
        }

        await db.SaveChangesAsync();
        await SceneDocuments.UpdateAsync(db, ids, CancellationToken.None);
        return ids;
    }

    /// <summary>Waits until the API holds the expected vectors, has no reload pending and no HNSW build running.</summary>
    private static async Task<IndexStatus> WaitForIndexAsync(HttpClient admin, int vectors) =>
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
    /// start and the indexes loaded from Postgres — and until the library's HNSW index is built again.
    /// </summary>
    private async Task<RunningGraph> RestartApiAsync(RunningGraph graph, HttpClient admin, int vectors, int size)
    {
        var clock = Stopwatch.StartNew();
        Process.GetProcessById(graph.ApiPid).Kill();
        var restarted = await RunningGraph.WaitForApiRestartAsync(dataDirectory, graph.ApiPid);
        var status = await WaitForStatusAsync(admin, _ => true);
        var answering = clock.Elapsed;
        await WaitForIndexAsync(admin, vectors);
        Console.WriteLine($"{size,9} API restarted: search answers after {answering.TotalSeconds:0.0} s ({status.VectorsLoaded} vectors loaded), " +
                          $"HNSW built after {clock.Elapsed.TotalSeconds:0.0} s");
        return restarted;
    }

    private static async Task MeasureAsync(HttpClient client, int size, string kind, Func<string> query)
    {
        for (var i = 0; i < 5; i++)
        {
            await SearchAsync(client, query()); // warm-up
        }

        var request = new List<double>();
        var parts = Parts.ToDictionary(p => p, _ => new List<double>());
        for (var i = 0; i < QueriesPerKind; i++)
        {
            var (milliseconds, timing) = await SearchAsync(client, query());
            request.Add(milliseconds);
            foreach (var (part, duration) in timing)
            {
                parts[part].Add(duration);
            }
        }

        Console.WriteLine($"{size,9} {kind,-8} {"request",-9} {Latency.Percentile(request, 50),8:0.0} {Latency.Percentile(request, 95),8:0.0}");
        foreach (var (part, durations) in parts)
        {
            Console.WriteLine($"{"",9} {"",-8} {part,-9} {Latency.Percentile(durations, 50),8:0.0} {Latency.Percentile(durations, 95),8:0.0}");
        }
    }

    private static async Task<(double Milliseconds, IEnumerable<(string Part, double Milliseconds)> Timing)> SearchAsync(HttpClient client, string query)
    {
        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync($"/api/search?q={Uri.EscapeDataString(query)}&limit=20");
        await response.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync();
        var elapsed = clock.Elapsed.TotalMilliseconds;
        var timing = string.Join(", ", response.Headers.GetValues("Server-Timing")).Split(", ").Select(entry => entry.Split(";dur="))
            .Select(pair => (pair[0], double.Parse(pair[1], CultureInfo.InvariantCulture)));
        return (elapsed, timing);
    }

    /// <summary>The parts of <c>GET /api/search/status</c> the bench waits on.</summary>
    private sealed record IndexStatus(bool Loaded, long VectorsLoaded, int PendingReloads, VectorIndexStatus Text);

    private static async Task<IndexStatus> StatusAsync(HttpClient admin) =>
        (await admin.GetFromJsonAsync<IndexStatus>("/api/search/status"))!;
}
