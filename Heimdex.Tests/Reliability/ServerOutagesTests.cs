using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Heimdex.Conventions;
using Heimdex.Shared.Storage;
using Heimdex.Tests.AppHost;
using Heimdex.Tests.Pipeline;
using Heimdex.Tests.Uploads;

namespace Heimdex.Tests.Reliability;

/// <summary>Each server of the graph goes down and comes back: the API says so plainly meanwhile, and no work is lost.</summary>
[Trait("Category", "Reliability")]
[Collection(AppHostCollection.Name)]
public sealed class ServerOutagesTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_api_answers_503_while_a_server_is_down_and_indexing_resumes_once_it_is_back()
    {
        await using var graph = await TestGraph.StartAsync(serviceEnvironment: new Dictionary<string, string>
        {
            // A storage outage of a few seconds is outlasted by the retries.
            ["Pipeline__RetryDelaysSeconds__0"] = "5",
            ["Pipeline__RetryDelaysSeconds__1"] = "10",
            ["Pipeline__HeartbeatInterval"] = "00:00:01",
            ["Pipeline__HeartbeatTimeout"] = "00:00:30",
            ["Pipeline__WatchdogInterval"] = "00:00:02",
        });
        await graph.WaitForHealthyAsync("api", "worker");
        using var client = await graph.AdminClientAsync();
        using var s3 = StorageConnection.Parse(await graph.ConnectionStringAsync(ConnectionNames.Storage)).CreateClient();
        var bucket = StorageConnection.Parse(await graph.ConnectionStringAsync(ConnectionNames.Storage)).Bucket;
        var video = await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation);

        // PostgreSQL down: 503 with Retry-After, for reading and for an upload, which leaves nothing stored.
        await graph.StopAsync("postgres");
        using (var listing = await client.GetAsync("/api/videos", Cancellation))
        {
            await AssertUnavailableAsync(listing, "database");
        }

        var storedBefore = (await TestFiles.StorageSnapshotAsync(s3, bucket)).Objects;
        using (var upload = await client.PostAsync("/api/videos", VideoUploadTests.Form(video, "while-down.mp4", null), Cancellation))
        {
            await AssertUnavailableAsync(upload, "database");
        }

        Assert.Equal(storedBefore, (await TestFiles.StorageSnapshotAsync(s3, bucket)).Objects);
        await graph.StartAgainAsync("postgres");
        await Eventually.PollAsync(async () => (await client.GetAsync("/api/videos", Cancellation)).StatusCode,
            status => status == HttpStatusCode.OK, "the API answering again", seconds: 60);

        // Storage down while a stage reads the video: the stage fails, is retried once storage is back, and the video is indexed.
        var first = await VideoUploadTests.UploadAsync(client, video, "storage-outage.mp4");
        await WaitForRunningAsync(client, first, "detect_shots");
        await graph.StopAsync("s3");
        await Task.Delay(TimeSpan.FromSeconds(3), Cancellation);
        await graph.StartAgainAsync("s3");
        var indexed = await PipelineTests.WaitForAsync(client, first, v => v.GetProperty("state").GetString() is "indexed" or "failed", "indexed after the storage outage");
        Assert.True(indexed.GetProperty("state").GetString() == "indexed", indexed.ToString());
        Assert.Contains(indexed.GetProperty("stages").EnumerateArray(), stage => stage.GetProperty("attempt").GetInt32() > 1);

        // Redis restarted mid-pipeline: the queue is kept on disk, and the video is indexed.
        var second = await VideoUploadTests.UploadAsync(client, video, "redis-restart.mp4");
        await WaitForRunningAsync(client, second, "detect_shots");
        await graph.StopAsync(ConnectionNames.Redis);
        await Task.Delay(TimeSpan.FromSeconds(2), Cancellation);
        await graph.StartAgainAsync(ConnectionNames.Redis);
        var resumed = await PipelineTests.WaitForAsync(client, second, v => v.GetProperty("state").GetString() is "indexed" or "failed", "indexed after Redis restarted");
        Assert.True(resumed.GetProperty("state").GetString() == "indexed", resumed.ToString());
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response, string server)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation);
        Assert.Equal("Service unavailable", problem.GetProperty("title").GetString());
        Assert.Contains(server, problem.GetProperty("detail").GetString());
    }

    private static Task<JsonElement> WaitForRunningAsync(HttpClient client, Guid id, string stage) =>
        PipelineTests.WaitForAsync(client, id, v => v.GetProperty("stages").EnumerateArray()
            .Any(s => s.GetProperty("stage").GetString() == stage && s.GetProperty("state").GetString() == "running"), $"{stage} running", seconds: 60);
}
