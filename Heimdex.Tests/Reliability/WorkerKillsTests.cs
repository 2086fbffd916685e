using System.Net.Http.Json;
using System.Text.Json;
using Heimdex.Shared.Storage;
using Heimdex.Tests.Pipeline;
using Heimdex.Tests.Uploads;
using Npgsql;

namespace Heimdex.Tests.Reliability;

/// <summary>The worker dies without warning (SIGKILL) again and again while videos are indexed: every video still ends indexed, once.</summary>
[Trait("Category", "Reliability")]
[Collection(HeimdexGraphCollection.Name)]
public sealed class WorkerKillsTests(HeimdexGraph graph)
{
    private const int Kills = 10;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>What no video may hold twice: the same scene, words said at the same moment, a line shown at the same moment, a face at the same place.</summary>
    private static readonly (string Table, string Key)[] Unique =
    [
        ("Scenes", "\"Index\""),
        ("TranscriptSegments", "\"StartSeconds\", \"Text\""),
        ("OnScreenTexts", "\"StartSeconds\", \"Text\""),
        ("Faces", "\"SceneId\", \"X\", \"Y\""),
    ];

    [Fact]
    public async Task A_worker_killed_ten_times_at_random_moments_still_indexes_every_video_once()
    {
        using var alice = graph.Client(graph.AliceKey);
        // Speech, a slide with a title and a photo with a face: work for every stage.
        var talk = await File.ReadAllBytesAsync(await MediaFactory.SlideThenPhotoAsync(
            "Reliability", TestFiles.SharedMedia("faces", "biden_1.jpg"), TestFiles.SharedMedia("audio", "jfk.wav"), seconds: 11), Cancellation);
        var random = new Random(20261203);
        var videos = new List<Guid>();
        var killedDuring = new HashSet<string>();
        for (var kill = 0; kill < Kills; kill++)
        {
            var states = new List<JsonElement>();
            foreach (var id in videos)
            {
                states.Add(await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}", Cancellation));
            }

            // Always work under way: a new upload when every video so far has ended, now and then another one.
            if (states.All(v => v.GetProperty("state").GetString() is "indexed" or "failed") || random.Next(3) == 0)
            {
                videos.Add(await VideoUploadTests.UploadAsync(alice, talk, $"killed-{kill}.mp4"));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(500, 12_000)), Cancellation);
            foreach (var id in videos)
            {
                var video = await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}", Cancellation);
                killedDuring.UnionWith(video.GetProperty("stages").EnumerateArray()
                    .Where(s => s.GetProperty("state").GetString() == "running").Select(s => s.GetProperty("stage").GetString()!));
            }

            await graph.Graph.CrashAndWaitForRestartAsync("worker");
        }

        TestContext.Current.SendDiagnosticMessage($"{videos.Count} videos; killed while running: {string.Join(", ", killedDuring.Order())}");
        Assert.True(killedDuring.Count >= 4, $"the kills caught only {string.Join(", ", killedDuring)} under way");
        using var s3 = graph.Storage.CreateClient();
        foreach (var id in videos)
        {
            var video = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() is "indexed" or "failed", "indexed after the kills", seconds: 300);
            Assert.True(video.GetProperty("state").GetString() == "indexed", video.ToString());
            foreach (var (table, key) in Unique)
            {
                Assert.True(await DuplicatesAsync(table, key, id) == 0, $"video {id} holds the same {table} row twice");
            }

            var stored = (await TestFiles.StorageSnapshotAsync(s3, graph.Storage.Bucket)).Objects;
            var scenes = (await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}/scenes", Cancellation)).GetArrayLength();
            Assert.Equal(scenes, stored.Count(key => key.StartsWith(StorageKeys.VideoPrefix(id) + "keyframes/", StringComparison.Ordinal)));
            Assert.Equal(scenes, stored.Count(key => key.StartsWith(StorageKeys.VideoPrefix(id) + "thumbnails/", StringComparison.Ordinal)));
        }
    }

    private async Task<long> DuplicatesAsync(string table, string key, Guid id)
    {
        await using var connection = new NpgsqlConnection(graph.DatabaseConnectionString);
        await connection.OpenAsync(Cancellation);
        await using var count = new NpgsqlCommand($"SELECT count(*) - count(DISTINCT ({key})) FROM \"{table}\" WHERE \"VideoId\" = $1", connection)
        {
            Parameters = { new() { Value = id } },
        };
        return (long)(await count.ExecuteScalarAsync(Cancellation))!;
    }
}
