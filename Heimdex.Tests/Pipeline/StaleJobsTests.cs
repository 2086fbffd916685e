using System.Net.Http.Json;
using System.Text.Json;
using Hangfire;
using Heimdex.Tests.Uploads;
using Heimdex.Worker.Pipeline;

namespace Heimdex.Tests.Pipeline;

/// <summary>
/// Stage jobs that arrive when they should not (Hangfire redelivers a dead worker's job hours later; a reprocess
/// leaves older jobs queued): they neither revive a failed video nor run ahead of a stage they depend on.
/// </summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class StaleJobsTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_job_for_a_failed_video_does_not_revive_it()
    {
        using var alice = graph.Client(graph.AliceKey);
        var id = await VideoUploadTests.UploadAsync(alice, TestFiles.NotAVideo(200_000), "not-a-video.mp4"); // failed for good by validation
        var failed = await WaitForVideoAsync(alice, id, video => video.GetProperty("state").GetString() == "failed");

        await RunJobsAsync(runner => runner.RunStageAsync(id, "validate", null, CancellationToken.None),
            runner => runner.RunStageAsync(id, "extract_audio", null, CancellationToken.None));

        var after = await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}", Cancellation);
        Assert.Equal("failed", after.GetProperty("state").GetString());
        Assert.Equal(failed.GetProperty("error").GetString(), after.GetProperty("error").GetString());
        Assert.Equal(failed.GetProperty("stages").GetRawText(), after.GetProperty("stages").GetRawText());
    }

    [Fact]
    public async Task A_job_for_a_stage_whose_dependency_has_not_succeeded_does_not_run()
    {
        using var alice = graph.Client(graph.AliceKey);
        var id = await VideoUploadTests.UploadAsync(alice, await File.ReadAllBytesAsync(await MediaFactory.ShotsAsync(shots: 2, shotSeconds: 1), Cancellation), "two-shots.mp4");
        await WaitForVideoAsync(alice, id, video => video.GetProperty("state").GetString() == "indexed");
        // As a reprocess from detect_shots leaves it until it has run: detect_shots and everything after it pending.
        await graph.ExecuteSqlAsync("UPDATE \"StageRuns\" SET \"State\" = 'Pending' WHERE \"VideoId\" = $1 AND \"Position\" >= " +
                                    "(SELECT \"Position\" FROM \"StageRuns\" WHERE \"VideoId\" = $1 AND \"Stage\" = 'detect_shots')", id);
        await graph.ExecuteSqlAsync("UPDATE \"Videos\" SET \"State\" = 'Processing' WHERE \"Id\" = $1", id);
        var before = await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}", Cancellation);

        await RunJobsAsync(runner => runner.RunStageAsync(id, "ocr", null, CancellationToken.None));

        var after = await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}", Cancellation);
        Assert.Equal(before.GetProperty("stages").GetRawText(), after.GetProperty("stages").GetRawText());
        Assert.Equal("processing", after.GetProperty("state").GetString());
    }

    /// <summary>Enqueues the jobs as a redelivery would bring them and waits until Hangfire has performed each.</summary>
    private async Task RunJobsAsync(params System.Linq.Expressions.Expression<Func<PipelineRunner, Task>>[] jobs)
    {
        var client = new BackgroundJobClient(graph.Jobs);
        var ids = new List<string>();
        foreach (var job in jobs)
        {
            // The test's own Redis connection is sometimes re-established under CI load, failing a write: it is written again then.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    ids.Add(client.Enqueue(job));
                    break;
                }
                catch (BackgroundJobClientException) when (attempt < 5)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), Cancellation);
                }
            }
        }

        using var connection = graph.Jobs.GetConnection();
        await Eventually.PollAsync(() => Task.FromResult(ids.Select(id => connection.GetStateData(id)?.Name).ToList()),
            states => states.All(state => state == "Succeeded"), "the stale jobs performed", seconds: 60);
    }

    private static async Task<JsonElement> WaitForVideoAsync(HttpClient client, Guid id, Func<JsonElement, bool> condition) =>
        await Eventually.PollAsync(() => client.GetFromJsonAsync<JsonElement>($"/api/videos/{id}", Cancellation), condition, $"video {id}", seconds: 180);
}
