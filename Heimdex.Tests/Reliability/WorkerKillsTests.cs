using System.Net.Http.Json;
using System.Text.Json;
using Heimdex.Shared.Storage;
using Heimdex.Tests.AppHost;
using Heimdex.Tests.Pipeline;
using Heimdex.Tests.Uploads;
using Npgsql;

namespace Heimdex.Tests.Reliability;

/// <summary>
/// The worker dies without warning (SIGKILL) in each of its stages in turn, at a random moment of it, while videos are
/// indexed: every video still ends indexed, once.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(HeimdexGraphCollection.Name)]
public sealed class WorkerKillsTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_worker_killed_at_a_random_moment_of_every_stage_still_indexes_every_video_once()
    {
        using var alice = graph.Client(graph.AliceKey);
        // Speech, a slide with a title and a photo with a face: work for every stage.
        var talk = await File.ReadAllBytesAsync(await MediaFactory.SlideThenPhotoAsync(
            "Reliability", TestFiles.SharedMedia("faces", "biden_1.jpg"), TestFiles.SharedMedia("audio", "jfk.wav"), seconds: 11), Cancellation);
        await using var database = NpgsqlDataSource.Create(graph.DatabaseConnectionString);
        var random = new Random(20261203);
        var videos = new List<Guid>();
        var stages = await UploadAsync(alice, talk, videos);
        var kills = new List<string>();
        foreach (var stage in stages)
        {
            // The random point: this long after the stage is seen running. A stage that ends sooner is tried again in
            // another video, at a random point of the time it was seen to take.
            var delay = TimeSpan.FromMilliseconds(random.Next(0, 2_000));
            for (var caught = false; !caught;)
            {
                Assert.True(videos.Count <= 3 * stages.Count, $"{stage} was never caught running: {string.Join("; ", kills)}");
                if (random.Next(4) == 0 || !await AnyYetToRunAsync(database, stage, videos))
                {
                    await UploadAsync(alice, talk, videos);
                }

                var worker = await graph.Graph.ServicePidAsync("worker");
                if (await SeenRunningAsync(database, stage, videos) is not { } seen)
                {
                    continue;
                }

                var (video, attempt) = seen;

                if (await EndedWithinAsync(database, stage, video, attempt, delay) is { } took)
                {
                    delay = took * random.NextDouble();
                    continue;
                }

                TestGraph.Kill(worker);

                // The run the worker died in stays running until the restarted worker takes it over: proof the kill landed in the stage.
                caught = await RunAsync(database, stage, video) == ("Running", attempt);
                kills.Add($"{stage} after {delay.TotalMilliseconds:0} ms{(caught ? "" : " (it ended first)")}");
                await graph.Graph.WaitForRestartAsync("worker", worker);
            }
        }

        TestContext.Current.SendDiagnosticMessage($"{videos.Count} videos; kills: {string.Join("; ", kills)}");
        foreach (var id in videos)
        {
            var video = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() is "indexed" or "failed", "indexed after the kills", seconds: 300);
            Assert.True(video.GetProperty("state").GetString() == "indexed", video.ToString());
            await IndexedOnce.AssertAsync(graph.DatabaseConnectionString, graph.Storage, alice, id);
        }
    }

    /// <summary>Uploads another video and waits until its stages are listed (the worker lists them when it takes the video); returns them.</summary>
    private static async Task<List<string>> UploadAsync(HttpClient client, byte[] talk, List<Guid> videos)
    {
        var id = await VideoUploadTests.UploadAsync(client, talk, $"killed-{videos.Count}.mp4");
        videos.Add(id);
        var listed = await PipelineTests.WaitForAsync(client, id, v => v.GetProperty("stages").GetArrayLength() > 0, "its pipeline listed");
        return [.. listed.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("stage").GetString()!)];
    }

    private static async Task<bool> AnyYetToRunAsync(NpgsqlDataSource database, string stage, List<Guid> videos) =>
        await RunsAsync(database, stage, videos, "'Pending', 'Queued'") is not null;

    /// <summary>Watches closely (every 10 ms) for any of the videos to run the stage; null once none is yet to run it.</summary>
    private static async Task<(Guid Video, int Attempt)?> SeenRunningAsync(NpgsqlDataSource database, string stage, List<Guid> videos)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            switch (await RunsAsync(database, stage, videos, "'Pending', 'Queued', 'Running'"))
            {
                case null:
                    return null;
                case { State: "Running" } running:
                    return (running.Video, running.Attempt);
            }

            await Task.Delay(10, Cancellation);
        }

        await using var runs = database.CreateCommand(
            "SELECT string_agg(v.\"State\" || ' video ' || v.\"Id\" || ': ' || r.\"State\" || ' ' || coalesce(r.\"Error\", ''), '; ') " +
            "FROM \"StageRuns\" r JOIN \"Videos\" v ON v.\"Id\" = r.\"VideoId\" WHERE r.\"Stage\" = $1 AND r.\"VideoId\" = ANY($2)");
        runs.Parameters.Add(new() { Value = stage });
        runs.Parameters.Add(new() { Value = videos.ToArray() });
        throw new TimeoutException($"none of {videos.Count} videos ran {stage} within 3 minutes: {await runs.ExecuteScalarAsync(Cancellation)}");
    }

    /// <summary>A run of the stage in one of the states, running ones first.</summary>
    private static async Task<(Guid Video, string State, int Attempt)?> RunsAsync(NpgsqlDataSource database, string stage, List<Guid> videos, string states)
    {
        await using var command = database.CreateCommand(
            $"SELECT \"VideoId\", \"State\", \"Attempt\" FROM \"StageRuns\" WHERE \"Stage\" = $1 AND \"State\" IN ({states}) AND \"VideoId\" = ANY($2) ORDER BY \"State\" = 'Running' DESC LIMIT 1");
        command.Parameters.Add(new() { Value = stage });
        command.Parameters.Add(new() { Value = videos.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(Cancellation);
        return await reader.ReadAsync(Cancellation) ? (reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2)) : null;
    }

    /// <summary>How long the run went on after it was seen, if it ended (or was rerun) before the delay passed; watched every 10 ms.</summary>
    private static async Task<TimeSpan?> EndedWithinAsync(NpgsqlDataSource database, string stage, Guid video, int attempt, TimeSpan delay)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (await RunAsync(database, stage, video) != ("Running", attempt))
            {
                return watch.Elapsed;
            }

            if (watch.Elapsed >= delay)
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10, (delay - watch.Elapsed).TotalMilliseconds)), Cancellation);
        }
    }

    private static async Task<(string State, int Attempt)> RunAsync(NpgsqlDataSource database, string stage, Guid video)
    {
        await using var command = database.CreateCommand("SELECT \"State\", \"Attempt\" FROM \"StageRuns\" WHERE \"Stage\" = $1 AND \"VideoId\" = $2");
        command.Parameters.Add(new() { Value = stage });
        command.Parameters.Add(new() { Value = video });
        await using var reader = await command.ExecuteReaderAsync(Cancellation);
        Assert.True(await reader.ReadAsync(Cancellation), $"video {video} has no {stage} run");
        return (reader.GetString(0), reader.GetInt32(1));
    }
}
