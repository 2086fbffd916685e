using System.Net.Http.Json;
using System.Text.Json;
using Heimdex.Tests.Uploads;

namespace Heimdex.Tests.Pipeline;

/// <summary>The watchdog's promise: no video is silently stuck, whatever was lost.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class WatchdogTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private async Task<Guid> IndexedVideoAsync(HttpClient alice)
    {
        var id = await VideoUploadTests.UploadAsync(alice, await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation), "watched.mp4");
        await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed", "indexed");
        return id;
    }

    [Fact]
    public async Task A_video_whose_queued_work_was_lost_is_enqueued_again_and_finishes()
    {
        using var alice = graph.Client(graph.AliceKey);
        var id = await IndexedVideoAsync(alice);

        // As if Redis lost the job after keyframes: finalize pending, its job gone, nothing running, nothing queued.
        await graph.ExecuteSqlAsync("UPDATE \"StageRuns\" SET \"State\" = 'Pending', \"JobId\" = 'lost-job' " +
                                    "WHERE \"VideoId\" = $1 AND \"Stage\" = 'finalize'", id);
        await graph.ExecuteSqlAsync("UPDATE \"Videos\" SET \"State\" = 'Processing', \"UpdatedAt\" = now() - interval '1 hour' WHERE \"Id\" = $1", id);

        var video = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed", "indexed again");
        var finalize = video.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "finalize");
        Assert.Equal("succeeded", finalize.GetProperty("state").GetString());
        Assert.True(finalize.GetProperty("finishedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
    }

    [Fact]
    public async Task A_stage_running_past_the_stage_timeout_fails_the_video_with_that_reason()
    {
        using var alice = graph.Client(graph.AliceKey);
        var id = await IndexedVideoAsync(alice);

        // Alive (fresh heartbeat) but running for three hours: longer than the 2 h stage timeout.
        await graph.ExecuteSqlAsync("UPDATE \"StageRuns\" SET \"State\" = 'Running', \"StartedAt\" = now() - interval '3 hours', " +
                                    "\"HeartbeatAt\" = now() WHERE \"VideoId\" = $1 AND \"Stage\" = 'keyframes'", id);

        var video = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "failed", "failed");
        Assert.StartsWith("keyframes: ran longer than the stage timeout", video.GetProperty("error").GetString());
    }
}
