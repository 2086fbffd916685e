using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Heimdex.Conventions;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Telemetry;
using Heimdex.Tests.AppHost;
using Heimdex.Tests.Pipeline;
using Heimdex.Tests.Uploads;
using Microsoft.Extensions.DependencyInjection;

namespace Heimdex.Tests.ScaleOut;

/// <summary>Heimdex on more than one process per service: workers sharing the queue, API replicas sharing nothing but the servers.</summary>
[Trait("Category", "ScaleOut")]
[Collection(AppHostCollection.Name)]
public sealed class ScaleOutTests
{
    private const int Workers = 3;
    private const int ApiReplicas = 2;

    /// <summary>One word per video, shown as its slide's title: what finds that video and no other.</summary>
    private static readonly string[] Words =
        ["aardvark", "bassoon", "cathedral", "dolphin", "eucalyptus", "flamingo", "glacier", "harmonica", "iguana", "jasmine", "kangaroo", "lighthouse"];

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Three_workers_index_twelve_videos_once_each_and_every_API_replica_finds_every_one()
    {
        await using var graph = await TestGraph.StartAsync(HeimdexGraph.ServiceEnvironment, dashboard: true,
            options: ["--workers", $"{Workers}", "--api-replicas", $"{ApiReplicas}"]);
        string[] workers = [.. ServiceNames.Replicas(ServiceNames.Worker, Workers)];
        string[] apis = [.. ServiceNames.Replicas(ServiceNames.Api, ApiReplicas)];
        await graph.WaitForHealthyAsync([.. apis, .. workers]);
        using var admin = await graph.AdminClientAsync();
        var key = await HeimdexGraph.CreateUserAsync(admin, "scale-out");
        var replicas = apis.Select(api => TestGraph.Client(graph.Endpoint(api), key)).ToList();
        string[] photos = ["obama_1.jpg", "biden_1.jpg", "obama_2.jpg", "biden_2.jpg", "obama_3.jpg", "obama_4.jpg"];
        var media = await Task.WhenAll(Words.Select((word, i) => MediaFactory.SlideThenPhotoAsync(
            $"{word} inventory", TestFiles.SharedMedia("faces", photos[i % photos.Length]), TestFiles.SharedMedia("audio", "jfk.wav"), seconds: 6)));

        // Uploads spread over both replicas; the workers take the stages from the one queue.
        var clock = Stopwatch.StartNew();
        var videos = new List<Guid>();
        for (var i = 0; i < Words.Length; i++)
        {
            videos.Add(await VideoUploadTests.UploadAsync(replicas[i % replicas.Count], await File.ReadAllBytesAsync(media[i], Cancellation), $"{Words[i]}.mp4"));
        }

        foreach (var id in videos)
        {
            var video = await PipelineTests.WaitForAsync(replicas[0], id, v => v.GetProperty("state").GetString() is "indexed" or "failed", "indexed", seconds: 600);
            Assert.True(video.GetProperty("state").GetString() == "indexed", video.ToString());
        }

        var took = clock.Elapsed;
        TestContext.Current.SendDiagnosticMessage(
            $"{Workers} workers indexed {videos.Count} videos of 6 s in {took.TotalSeconds:0} s: {videos.Count / took.TotalMinutes:0.0} videos/min");

        var storage = StorageConnection.Parse(await graph.ConnectionStringAsync(ConnectionNames.Storage));
        var database = await graph.ConnectionStringAsync(ConnectionNames.Database);
        foreach (var id in videos)
        {
            await IndexedOnce.AssertAsync(database, storage, replicas[0], id);
        }

        await AssertNoStageRanTwiceAtOnceAsync(graph, workers, videos);

        // Every replica's own vector indexes hold every video: its scene is found by its word, semantically too.
        foreach (var (replica, api) in replicas.Zip(apis))
        {
            for (var i = 0; i < videos.Count; i++)
            {
                var (word, id) = (Words[i], videos[i]);
                await Eventually.PollAsync(() => TopHitAsync(replica, word), hit => hit?.VideoId == id && hit.Semantic is not null,
                    $"{api} finding video {id} by \"{word}\" with a semantic score", seconds: 60);
            }
        }

        // A change announced to no one (its message lost): every replica still follows it, through the reconcile.
        var changed = videos[0];
        var kept = $"embeddings_{changed:N}";
        await using var sql = Npgsql.NpgsqlDataSource.Create(database);
        await sql.CreateCommand($"CREATE TABLE \"{kept}\" AS SELECT * FROM \"SceneEmbeddings\" WHERE \"VideoId\" = '{changed}'").ExecuteNonQueryAsync(Cancellation);
        await sql.CreateCommand($"DELETE FROM \"SceneEmbeddings\" WHERE \"VideoId\" = '{changed}'; UPDATE \"Videos\" SET \"UpdatedAt\" = now() WHERE \"Id\" = '{changed}'").ExecuteNonQueryAsync(Cancellation);
        foreach (var (replica, api) in replicas.Zip(apis))
        {
            await Eventually.PollAsync(() => TopHitAsync(replica, Words[0]), hit => hit?.VideoId == changed && hit.Semantic is null,
                $"{api} dropping video {changed}'s vectors", seconds: 30);
        }

        await sql.CreateCommand($"INSERT INTO \"SceneEmbeddings\" SELECT * FROM \"{kept}\"; DROP TABLE \"{kept}\"; UPDATE \"Videos\" SET \"UpdatedAt\" = now() WHERE \"Id\" = '{changed}'").ExecuteNonQueryAsync(Cancellation);
        foreach (var (replica, api) in replicas.Zip(apis))
        {
            await Eventually.PollAsync(() => TopHitAsync(replica, Words[0]), hit => hit?.VideoId == changed && hit.Semantic is not null,
                $"{api} taking video {changed}'s vectors back", seconds: 30);
        }

        replicas.ForEach(replica => replica.Dispose());
    }

    [Fact]
    public async Task A_worker_in_a_network_namespace_of_its_own_indexes_over_a_private_link()
    {
        await using var graph = await TestGraph.StartAsync(HeimdexGraph.ServiceEnvironment);
        await graph.WaitForHealthyAsync(ServiceNames.Api, ServiceNames.Worker);

        // The worker the graph runs, as it was started; then it stops, so only the one in the namespace takes work.
        var running = await graph.ServicePidAsync(ServiceNames.Worker);
        var command = File.ReadAllText($"/proc/{running}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var directory = new DirectoryInfo($"/proc/{running}/cwd").ResolveLinkTarget(returnFinalTarget: true)!.FullName;
        var environment = File.ReadAllText($"/proc/{running}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(entry => entry.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        await graph.StopAsync(ServiceNames.Worker);

        await using var link = await NetworkNamespace.CreateAsync();
        Assert.Equal([IPAddress.Loopback, link.Address], await link.AddressesAsync());

        // Each server the graph runs is reached at this side of the link, as a server on another host would be.
        var servers = graph.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<IResourceWithEndpoints>()
            .Where(resource => !ServiceNames.IsReplicaOf(resource.Name, ServiceNames.Api) && !ServiceNames.IsReplicaOf(resource.Name, ServiceNames.Worker))
            .SelectMany(resource => resource.Annotations.OfType<EndpointAnnotation>())
            .Where(endpoint => endpoint.AllocatedEndpoint is not null)
            .Select(endpoint => endpoint.AllocatedEndpoint!.Port).Distinct().ToList();
        var forwarders = servers.Select(port => new TcpForwarder(new IPEndPoint(link.HostAddress, port), new IPEndPoint(IPAddress.Loopback, port))).ToList();
        var databaseConnectionString = await graph.ConnectionStringAsync(ConnectionNames.Database);
        var database = new Npgsql.NpgsqlConnectionStringBuilder(databaseConnectionString).Port;
        Assert.False(await link.CanConnectAsync(new IPEndPoint(IPAddress.Loopback, database)), "the namespace reaches the graph's PostgreSQL on loopback");
        Assert.True(await link.CanConnectAsync(new IPEndPoint(link.HostAddress, database)), "the namespace cannot reach the graph's PostgreSQL over the link");

        // The same worker, its servers named by the link's address instead of loopback; its own HTTP port stays on its loopback.
        var remote = environment.ToDictionary(pair => pair.Key, pair => pair.Key.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || pair.Key.EndsWith("HTTP_PORTS", StringComparison.Ordinal)
            ? pair.Value
            : pair.Value.Replace("127.0.0.1", link.HostAddress.ToString(), StringComparison.Ordinal).Replace("localhost", link.HostAddress.ToString(), StringComparison.Ordinal));
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var worker = link.Start(command[0], command[1..], remote, directory, output.Enqueue);
        try
        {
            var key = await HeimdexGraph.CreateUserAsync(await graph.AdminClientAsync(), "far-away");
            using var client = TestGraph.Client(graph.Endpoint(ServiceNames.Api), key);
            var media = await MediaFactory.SlideThenPhotoAsync("Remote lighthouse", TestFiles.SharedMedia("faces", "obama_1.jpg"), TestFiles.SharedMedia("audio", "jfk.wav"), seconds: 6);
            var id = await VideoUploadTests.UploadAsync(client, await File.ReadAllBytesAsync(media, Cancellation), "remote.mp4");
            var video = await PipelineTests.WaitForAsync(client, id, v => v.GetProperty("state").GetString() is "indexed" or "failed" || worker.HasExited,
                "indexed by the worker in the namespace", seconds: 300);
            Assert.True(video.GetProperty("state").GetString() == "indexed", $"{video}\nthe worker in the namespace said:\n{string.Join('\n', output.TakeLast(40))}");
            Assert.False(worker.HasExited);
            Assert.Contains(output, line => line.Contains("Engine", StringComparison.Ordinal));
            await IndexedOnce.AssertAsync(databaseConnectionString,
                StorageConnection.Parse(await graph.ConnectionStringAsync(ConnectionNames.Storage)), client, id);
        }
        finally
        {
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync(CancellationToken.None);
            foreach (var forwarder in forwarders)
            {
                await forwarder.DisposeAsync();
            }
        }
    }

    internal sealed record TopHit(Guid VideoId, double? Semantic);

    /// <summary>The first hit of a search for <paramref name="word"/>, and its semantic score when the vector indexes gave one.</summary>
    internal static async Task<TopHit?> TopHitAsync(HttpClient replica, string word)
    {
        var hits = (await replica.GetFromJsonAsync<JsonElement>($"/api/search?q={Uri.EscapeDataString(word)}", Cancellation)).GetProperty("hits");
        if (hits.GetArrayLength() == 0)
        {
            return null;
        }

        var top = hits[0];
        var semantic = top.GetProperty("score").TryGetProperty("semantic", out var score) && score.ValueKind == JsonValueKind.Number ? score.GetDouble() : (double?)null;
        return new TopHit(top.GetProperty("videoId").GetGuid(), semantic);
    }

    /// <summary>
    /// From the traces: the stage spans that really ran a stage (those that got an attempt; a job that found the stage
    /// running elsewhere defers without one) never overlap for the same stage of the same video — and every worker ran some.
    /// </summary>
    private static async Task AssertNoStageRanTwiceAtOnceAsync(TestGraph graph, string[] workers, List<Guid> videos)
    {
        var telemetry = new DashboardTelemetry(await graph.DashboardAsync());
        var ids = videos.Select(id => id.ToString()).ToHashSet();
        var runs = await Eventually.PollAsync(async () =>
            {
                var spans = new List<TelemetryItem>();
                foreach (var worker in workers)
                {
                    spans.AddRange((await telemetry.SpansAsync(worker)).Where(s => s.Text("name").StartsWith("stage ", StringComparison.Ordinal)
                        && s.Attribute(HeimdexTelemetry.Attempt) is not null && ids.Contains(s.Attribute(HeimdexTelemetry.VideoId) ?? "")));
                }

                return spans;
            },
            spans => workers.All(worker => spans.Any(s => s.Resource == worker)) && ids.All(id => spans.Any(s => s.Attribute(HeimdexTelemetry.VideoId) == id)),
            "stage spans of every video, from every worker", seconds: 60);

        foreach (var stage in runs.GroupBy(s => (Video: s.Attribute(HeimdexTelemetry.VideoId), Stage: s.Attribute(HeimdexTelemetry.Stage))))
        {
            var ordered = stage.OrderBy(s => s.Interval.Start).ToList();
            foreach (var (earlier, later) in ordered.Zip(ordered.Skip(1)))
            {
                Assert.True(later.Interval.Start >= earlier.Interval.End,
                    $"{stage.Key.Stage} of video {stage.Key.Video} ran twice at once: on {earlier.Resource} and on {later.Resource}");
            }
        }

        TestContext.Current.SendDiagnosticMessage("stages run per worker: " +
            string.Join(", ", runs.GroupBy(s => s.Resource).Select(g => $"{g.Key} {g.Count()}")));
    }
}
