using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Heimdex.Tests.Uploads;
using Heimdex.Worker.Pipeline;

namespace Heimdex.Tests.Pipeline;

/// <summary>The watchdog's promise: no video is silently stuck, whatever was lost.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class WatchdogTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private async Task<(Guid Id, JsonElement Indexed)> IndexedVideoAsync(HttpClient alice)
    {
        var id = await VideoUploadTests.UploadAsync(alice, await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation), "watched.mp4");
        return (id, await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed", "indexed"));
    }

    /// <summary>
    /// As if Redis lost the video's jobs: the <paramref name="queued"/> stages queued with jobs that no longer exist,
    /// the <paramref name="pending"/> ones waiting for them, nothing running; the watchdog enqueues what is lost.
    /// </summary>
    [Theory]
    [InlineData(new string[0], new[] { "finalize" })] // the job for the last stage was never enqueued
    [InlineData(new[] { "transcribe", "ocr" }, new[] { "keyframes", "faces", "slides", "people", "embed", "notes", "finalize" })] // both branches lost theirs
    public async Task A_video_whose_queued_work_was_lost_is_enqueued_again_and_finishes(string[] queued, string[] pending)
    {
        using var alice = graph.Client(graph.AliceKey);
        var (id, before) = await IndexedVideoAsync(alice);

        await graph.ExecuteSqlAsync("UPDATE \"StageRuns\" SET \"State\" = 'Queued', \"JobId\" = 'lost-' || \"Stage\" WHERE \"VideoId\" = $1 AND \"Stage\" = ANY($2)", id, queued);
        await graph.ExecuteSqlAsync("UPDATE \"StageRuns\" SET \"State\" = 'Pending', \"JobId\" = 'lost-job' WHERE \"VideoId\" = $1 AND \"Stage\" = ANY($2)", id, pending);
        await graph.ExecuteSqlAsync("UPDATE \"Videos\" SET \"State\" = 'Processing', \"UpdatedAt\" = now() - interval '1 hour' WHERE \"Id\" = $1", id);

        var video = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed", "indexed again");
        Assert.All(queued.Concat(pending), stage => AssertRanAgain(before, video, stage));
    }

    /// <summary>
    /// As if the worker was killed just after Hangfire handed it the job for the video's last stage, before the stage
    /// started: the stage stays queued, its job "processing" on a server that no longer beats. The watchdog requeues the
    /// job long before the stall timeout (90 s here), let alone the storage's invisibility timeout (hours).
    /// </summary>
    [Fact]
    public async Task A_job_taken_by_a_worker_that_died_before_its_stage_started_is_requeued()
    {
        using var alice = graph.Client(graph.AliceKey);
        var (id, before) = await IndexedVideoAsync(alice);

        var jobId = new BackgroundJobClient(graph.Jobs).Create(
            Job.FromExpression<PipelineRunner>(runner => runner.RunStageAsync(id, "finalize", null, CancellationToken.None)), new ProcessingOnDeadServer());
        await graph.ExecuteSqlAsync("UPDATE \"StageRuns\" SET \"State\" = 'Queued', \"JobId\" = $2 WHERE \"VideoId\" = $1 AND \"Stage\" = 'finalize'", id, jobId);
        await graph.ExecuteSqlAsync("UPDATE \"Videos\" SET \"State\" = 'Processing', \"UpdatedAt\" = now() WHERE \"Id\" = $1", id);

        var video = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed", "indexed again", seconds: 45);
        AssertRanAgain(before, video, "finalize");
    }

    /// <summary>
    /// As if the worker was killed between taking the job for the video's last stage from its queue and marking it
    /// processing (what left a video queued in a run of <c>WorkerKillsTests</c>): the job is still "enqueued", yet in no
    /// queue, and no server names it. The watchdog requeues it once it has been held as long as a heartbeat may stay
    /// silent (30 s here), long before the storage's invisibility timeout (hours).
    /// </summary>
    [Fact]
    public async Task A_job_a_worker_took_from_its_queue_and_died_holding_is_requeued()
    {
        using var alice = graph.Client(graph.AliceKey);
        var (id, before) = await IndexedVideoAsync(alice);

        // A queue no worker serves, so that this test is the one to take the job, as a worker would, and hold it.
        const string queue = "held_by_a_killed_worker";
        var jobId = new BackgroundJobClient(graph.Jobs).Create(
            Job.FromExpression<PipelineRunner>(runner => runner.RunStageAsync(id, "finalize", null, CancellationToken.None)), new EnqueuedState(queue));
        using (var connection = graph.Jobs.GetConnection())
        {
            // Never disposed: disposing gives the job back to its queue, which a killed worker cannot do.
            var taken = connection.FetchNextJob([queue], Cancellation);
            Assert.Equal(jobId, taken.JobId);
        }

        await graph.ExecuteSqlAsync("UPDATE \"StageRuns\" SET \"State\" = 'Queued', \"JobId\" = $2 WHERE \"VideoId\" = $1 AND \"Stage\" = 'finalize'", id, jobId);
        await graph.ExecuteSqlAsync("UPDATE \"Videos\" SET \"State\" = 'Processing', \"UpdatedAt\" = now() WHERE \"Id\" = $1", id);

        var video = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed", "indexed again", seconds: 60);
        AssertRanAgain(before, video, "finalize");
    }

    /// <summary>Hangfire's processing state as a worker of a server that is gone left it (Hangfire's own type cannot be made outside it).</summary>
    private sealed class ProcessingOnDeadServer : IState
    {
        public string Name => ProcessingState.StateName;

        public string? Reason => null;

        public bool IsFinal => false;

        public bool IgnoreJobLoadException => false;

        public Dictionary<string, string> SerializeData() => new()
        {
            ["StartedAt"] = JobHelper.SerializeDateTime(DateTime.UtcNow.AddMinutes(-1)),
            ["ServerId"] = "killed-worker:1:00000000",
            ["WorkerId"] = Guid.Empty.ToString("D", CultureInfo.InvariantCulture),
        };
    }

    private static void AssertRanAgain(JsonElement before, JsonElement after, string name)
    {
        JsonElement Stage(JsonElement video) => video.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == name);
        var stage = Stage(after);
        Assert.True(stage.GetProperty("state").GetString() is "succeeded" or "skipped", $"{name}: {stage}");
        Assert.True(stage.GetProperty("finishedAt").GetDateTimeOffset() > Stage(before).GetProperty("finishedAt").GetDateTimeOffset(), $"{name}: {stage}");
    }

    [Fact]
    public async Task A_stage_running_past_the_stage_timeout_fails_the_video_with_that_reason()
    {
        using var alice = graph.Client(graph.AliceKey);
        var (id, _) = await IndexedVideoAsync(alice);

        // Alive (fresh heartbeat) but running for three hours: longer than the 2 h stage timeout.
        await graph.ExecuteSqlAsync("UPDATE \"StageRuns\" SET \"State\" = 'Running', \"StartedAt\" = now() - interval '3 hours', " +
                                    "\"HeartbeatAt\" = now() WHERE \"VideoId\" = $1 AND \"Stage\" = 'keyframes'", id);

        var video = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "failed", "failed");
        Assert.StartsWith("keyframes: ran longer than the stage timeout", video.GetProperty("error").GetString());
    }
}
