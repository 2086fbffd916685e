using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hangfire.Redis.StackExchange;
using Heimdex.Conventions;
using Heimdex.Shared;
using Heimdex.Tests.AppHost;
using Heimdex.Tests.Uploads;
using StackExchange.Redis;

namespace Heimdex.Tests.Pipeline;

/// <summary>
/// A graph with tight limits — stages may run 15 s, videos may ask for 20 million pixel-seconds of decoding — where a
/// stage past its time is stopped by its own worker, not merely marked failed, and a video too large is refused.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(AppHostCollection.Name)]
public sealed class WorkerLimitsTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_stage_past_its_timeout_is_stopped_and_fails_the_video_the_worker_goes_on_and_a_video_over_the_size_limit_is_refused()
    {
        await using var graph = await TestGraph.StartAsync(workerEnvironment: new Dictionary<string, string>
        {
            ["Pipeline__StageTimeout"] = "00:00:15",
            ["Pipeline__MaxVideoPixelSeconds"] = "20000000",
            // Only the worker's own timeout may stop the stage here, not the watchdog's sweep.
            ["Pipeline__WatchdogInterval"] = "01:00:00",
        });
        await graph.WaitForHealthyAsync("api", "worker");
        var workerPid = await graph.ServicePidAsync("worker");
        using var client = await graph.AdminClientAsync();

        // Three minutes of speech: transcribing it takes about a minute on two cores.
        var talk = await MediaFactory.RepeatedSpeechAsync(TestFiles.SharedMedia("audio", "jfk.wav"), times: 16);
        var slow = await VideoUploadTests.UploadAsync(client, await File.ReadAllBytesAsync(talk, Cancellation), "long-talk.mp4");
        var failed = await Eventually.PollAsync(() => client.GetFromJsonAsync<JsonElement>($"/api/videos/{slow}", Cancellation),
            video => video.GetProperty("state").GetString() == "failed", "the long talk failed", seconds: 180);

        var transcribe = failed.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "transcribe");
        Assert.Equal("failed", transcribe.GetProperty("state").GetString());
        Assert.Contains("stage timeout of 00:00:15", transcribe.GetProperty("error").GetString());
        Assert.StartsWith("transcribe: ran longer than the stage timeout", failed.GetProperty("error").GetString());
        var ran = transcribe.GetProperty("finishedAt").GetDateTimeOffset() - transcribe.GetProperty("startedAt").GetDateTimeOffset();
        Assert.InRange(ran, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(25));

        // The stage really stopped: no job is still processing (the transcription would run for most of a minute more),
        // and the same worker process indexes the next video.
        using var redis = await ConnectionMultiplexer.ConnectAsync(await graph.ConnectionStringAsync(ConnectionNames.Redis));
        var monitoring = new RedisStorage(redis, new RedisStorageOptions { Prefix = InfrastructureRegistration.HangfirePrefix }).GetMonitoringApi();
        await Eventually.PollAsync(() => Task.FromResult(monitoring.ProcessingCount()), processing => processing == 0, "no job processing", seconds: 5);
        var shortClip = await MediaFactory.ShotsAsync(shots: 2, shotSeconds: 2);
        var next = await VideoUploadTests.UploadAsync(client, await File.ReadAllBytesAsync(shortClip, Cancellation), "short.mp4");
        await Eventually.PollAsync(() => client.GetFromJsonAsync<JsonElement>($"/api/videos/{next}", Cancellation),
            video => video.GetProperty("state").GetString() == "indexed", "the next video indexed", seconds: 60);
        Assert.Equal(workerPid, await graph.ServicePidAsync("worker"));
        var stillFailed = await client.GetFromJsonAsync<JsonElement>($"/api/videos/{slow}", Cancellation);
        Assert.Equal("failed", stillFailed.GetProperty("state").GetString());
        Assert.Equal(0, stillFailed.GetProperty("stages").EnumerateArray().Count(s => s.GetProperty("state").GetString() == "running"));

        // 1280×720 for 24 s is 22 million pixel-seconds: refused at validation, saying why.
        var large = await VideoUploadTests.UploadAsync(client, await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation), "large.mp4");
        var refused = await Eventually.PollAsync(() => client.GetFromJsonAsync<JsonElement>($"/api/videos/{large}", Cancellation),
            video => video.GetProperty("state").GetString() == "failed", "the large video refused", seconds: 60);
        Assert.StartsWith("validate: The video is 1280×720 for 00:00:24", refused.GetProperty("error").GetString());
        Assert.Contains("Pipeline__MaxVideoPixelSeconds", refused.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_stage_hung_on_a_stalled_storage_read_is_stopped_at_its_timeout_and_the_video_is_indexed_on_reprocess()
    {
        await using var proxy = new StallingStorageProxy { Stalling = true };
        await using var graph = await TestGraph.StartAsync(workerStorage: proxy.Rewrite, workerEnvironment: new Dictionary<string, string>
        {
            ["Pipeline__StageTimeout"] = "00:00:30",
            // ffmpeg's own read timeout would give up first; here only the stage timeout may stop the stage.
            ["Pipeline__StorageReadTimeout"] = "00:10:00",
            ["Pipeline__WatchdogInterval"] = "01:00:00",
        });
        await graph.WaitForHealthyAsync("api", "worker");
        var workerPid = await graph.ServicePidAsync("worker");
        using var client = await graph.AdminClientAsync();

        // 2.4 MB: every stage that reads the whole original hangs after its first megabyte.
        var video = await VideoUploadTests.UploadAsync(client, await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation), "stalls.mp4");
        var failed = await PipelineTests.WaitForAsync(client, video, v => v.GetProperty("state").GetString() == "failed", "failed on the stall", seconds: 120);
        Assert.True(proxy.Stalled > 0);
        var timedOut = failed.GetProperty("stages").EnumerateArray().Where(s => s.GetProperty("state").GetString() == "failed").ToList();
        Assert.NotEmpty(timedOut);
        Assert.All(timedOut, stage => Assert.Contains("stage timeout of 00:00:30", stage.GetProperty("error").GetString()));

        // Stopped, not merely marked: no ffmpeg still reads through the proxy, no job is processing, the worker lives on.
        var proxyAddress = $"127.0.0.1:{proxy.Port}";
        await Eventually.PollAsync(() => Task.FromResult(MediaProcesses.Naming(proxyAddress)), readers => readers.Count == 0, "no ffmpeg reading storage", seconds: 10);
        using var redis = await ConnectionMultiplexer.ConnectAsync(await graph.ConnectionStringAsync(ConnectionNames.Redis));
        var monitoring = new RedisStorage(redis, new RedisStorageOptions { Prefix = InfrastructureRegistration.HangfirePrefix }).GetMonitoringApi();
        await Eventually.PollAsync(() => Task.FromResult(monitoring.ProcessingCount()), processing => processing == 0, "no job processing", seconds: 10);
        Assert.Equal(workerPid, await graph.ServicePidAsync("worker"));

        proxy.Stalling = false;
        using var reprocess = await client.PostAsync($"/api/videos/{video}/reprocess", null, Cancellation);
        Assert.Equal(HttpStatusCode.Accepted, reprocess.StatusCode);
        await PipelineTests.WaitForAsync(client, video, v => v.GetProperty("state").GetString() == "indexed", "indexed after the reprocess", seconds: 180);
    }
}
