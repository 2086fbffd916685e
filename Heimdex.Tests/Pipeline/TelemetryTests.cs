using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Heimdex.Shared.Data;
using Heimdex.Shared.Telemetry;
using Heimdex.Shared.Videos;
using Heimdex.Tests.AppHost;
using Heimdex.Tests.Uploads;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Heimdex.Tests.Pipeline;

/// <summary>What the Aspire dashboard shows of a video: one trace from its upload through every stage, its logs, the pipeline's gauges.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class TelemetryTests(HeimdexGraph graph) : IAsyncLifetime
{
    private const int ExportSeconds = 60;
    private static readonly string[] Stages =
        ["validate", "extract_audio", "transcribe", "detect_shots", "ocr", "keyframes", "faces", "slides", "people", "embed", "notes", "finalize"];

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private DashboardTelemetry? _dashboard;

    private DashboardTelemetry Dashboard => _dashboard!;

    public async ValueTask InitializeAsync() => _dashboard = new DashboardTelemetry(await graph.Graph.DashboardAsync());

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task An_indexed_video_is_one_trace_from_its_upload_request_through_every_stage_with_its_logs_filterable_by_video()
    {
        using var alice = graph.Client(graph.AliceKey);
        var (id, traceId) = await IndexedVideoAsync(alice, "traced.mp4");

        var trace = await Eventually.PollAsync(() => Dashboard.TraceAsync(traceId),
            spans => Stages.All(stage => spans.Any(s => s.Attribute("heimdex.stage") == stage && s.Attribute("heimdex.attempt") == "1")),
            $"every stage's run in trace {traceId}", ExportSeconds);

        var upload = Assert.Single(trace, s => s.Resource == "api" && s.Attribute("http.request.method") == "POST" && s.Attribute("url.path") == "/api/videos");
        Assert.Equal(HttpStatusCode.Accepted.ToString("D"), upload.Attribute("http.response.status_code"));
        foreach (var stage in Stages)
        {
            // One run of each stage: a stage is enqueued only once the previous one released the video, so no job finds
            // it busy and comes back later (a short span without an attempt, and 15 s or more of waiting).
            var spans = trace.Where(s => s.Attribute("heimdex.stage") == stage).ToList();
            Assert.All(spans, span =>
            {
                Assert.Equal("worker", span.Resource);
                Assert.Equal(id.ToString(), span.Attribute("heimdex.video.id"));
                Assert.Equal($"stage {stage}", span.Text("name"));
                Assert.False(span.IsError, span.ToString());
            });
            Assert.Equal("1", Assert.Single(spans).Attribute("heimdex.attempt"));
        }

        // Below the stages: their database calls, Redis commands and storage requests.
        var stageSpans = trace.Where(s => s.Attribute("heimdex.stage") is not null).Select(s => s.Text("spanId")).ToHashSet();
        var children = trace.Where(s => stageSpans.Contains(s.Text("parentSpanId"))).ToList();
        Assert.Contains(children, s => s.Attribute("db.system.name") == "postgresql" || s.Attribute("db.system") == "postgresql");
        Assert.Contains(children, s => s.Attribute("db.system.name") == "redis" || s.Attribute("db.system") == "redis");
        Assert.Contains(children, s => s.Attribute("server.port") == graph.Storage.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        // The worker's log records of those stages carry the video, so the dashboard's structured logs filter by it.
        var logs = await Eventually.PollAsync(() => Dashboard.LogsAsync("worker", traceId),
            records => records.Any(r => r.Attribute("heimdex.stage") is not null), $"worker logs in trace {traceId}", ExportSeconds);
        Assert.All(logs.Where(r => r.Attribute("heimdex.stage") is not null), r => Assert.Equal(id.ToString(), r.Attribute("heimdex.video.id")));
    }

    [Fact]
    public async Task A_stage_that_fails_ends_its_span_with_error_status_and_the_reason()
    {
        using var alice = graph.Client(graph.AliceKey);
        var original = await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation);
        var id = await VideoUploadTests.UploadAsync(alice, original[..(original.Length / 3)], "cut-short.mp4");
        var video = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "failed", "failed");
        var traceId = await UploadTraceIdAsync(id);

        var trace = await Eventually.PollAsync(() => Dashboard.TraceAsync(traceId),
            spans => spans.Any(s => s.Attribute("heimdex.stage") == "validate" && s.IsError), $"a failed validate span in trace {traceId}", ExportSeconds);
        var validate = trace.Single(s => s.Attribute("heimdex.stage") == "validate" && s.IsError);
        Assert.Equal("1", validate.Attribute("heimdex.attempt"));
        var reason = video.GetProperty("error").GetString()!["validate: ".Length..];
        Assert.Contains(reason, validate.Item.GetProperty("status").GetProperty("message").GetString());
        Assert.Contains(validate.Item.GetProperty("events").EnumerateArray(), e => e.GetProperty("name").GetString() == "exception");
        Assert.DoesNotContain(trace, s => s.Attribute("heimdex.stage") == "extract_audio"); // nothing runs after a failure
    }

    [Fact]
    public async Task Reprocess_and_the_watchdog_start_traces_of_their_own_linked_to_the_upload_trace()
    {
        using var alice = graph.Client(graph.AliceKey);
        var (id, uploadTrace) = await IndexedVideoAsync(alice, "linked.mp4");

        using (var reprocess = await alice.PostAsync($"/api/videos/{id}/reprocess?fromStage=finalize", null, Cancellation))
        {
            Assert.Equal(HttpStatusCode.Accepted, reprocess.StatusCode);
        }

        await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed", "indexed again");
        await AssertLinkedRunAsync("api", id, uploadTrace, "reprocess");

        // As if Redis lost the job: finalize pending, its job gone, nothing running; the watchdog enqueues it again.
        await graph.ExecuteSqlAsync("UPDATE \"StageRuns\" SET \"State\" = 'Pending', \"JobId\" = 'lost-job' " +
                                    "WHERE \"VideoId\" = $1 AND \"Stage\" = 'finalize'", id);
        await graph.ExecuteSqlAsync("UPDATE \"Videos\" SET \"State\" = 'Processing', \"UpdatedAt\" = now() - interval '1 hour' WHERE \"Id\" = $1", id);
        await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed", "indexed by the watchdog's run");
        await AssertLinkedRunAsync("worker", id, uploadTrace, "watchdog");
    }

    [Fact]
    public async Task The_pipeline_gauges_count_videos_by_state_and_jobs_by_hangfire_state()
    {
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddDbContext<HeimdexDbContext>(options => options.UseNpgsql(graph.DatabaseConnectionString))
            .AddSingleton(graph.Jobs)
            .BuildServiceProvider();
        var measured = new ConcurrentDictionary<(string Instrument, string Tag), long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, meterListener) =>
            {
                if (instrument.Meter == HeimdexTelemetry.Meter)
                {
                    meterListener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measured[(instrument.Name, tags.ToArray().Select(t => $"{t.Key}={t.Value}").Single())] = value);
        listener.Start();
        using var gauges = ActivatorUtilities.CreateInstance<PipelineGauges>(services);
        await gauges.StartAsync(Cancellation);

        await Eventually.PollAsync(() =>
            {
                listener.RecordObservableInstruments();
                return Task.FromResult((Videos: measured.Keys.Count(k => k.Instrument == "heimdex.videos"), Jobs: measured.Keys.Count(k => k.Instrument == "heimdex.jobs")));
            }, counts => counts == (Enum.GetValues<VideoState>().Length, 4), "videos by every state and jobs by four states", seconds: 30);
        await gauges.StopAsync(Cancellation);

        await using var connection = new NpgsqlConnection(graph.DatabaseConnectionString);
        await connection.OpenAsync(Cancellation);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM \"Videos\"", connection);
        Assert.Equal((long)(await count.ExecuteScalarAsync(Cancellation))!, measured.Where(m => m.Key.Instrument == "heimdex.videos").Sum(m => m.Value));
        Assert.All((string[])["enqueued", "scheduled", "processing", "failed"], state => Assert.True(measured.ContainsKey(("heimdex.jobs", $"state={state}")), state));
    }

    /// <summary>A span of <paramref name="resource"/> links to the upload's trace, and its own trace ran finalize for the video again.</summary>
    private async Task AssertLinkedRunAsync(string resource, Guid id, string uploadTrace, string what)
    {
        var seen = new HashSet<string>();
        await Eventually.PollAsync(async () =>
            {
                foreach (var linked in (await Dashboard.SpansAsync(resource)).Where(s => s.LinkedTraceIds.Contains(uploadTrace)))
                {
                    var trace = await Dashboard.TraceAsync(linked.Text("traceId"));
                    if (trace.Any(s => s.Attribute("heimdex.stage") == "finalize" && s.Attribute("heimdex.video.id") == id.ToString()))
                    {
                        seen.Add(linked.Text("traceId"));
                    }
                }

                return seen.Count;
            },
            count => count > 0, $"{what}'s run of video {id} linked to its upload trace {uploadTrace}", ExportSeconds);
        Assert.DoesNotContain(uploadTrace, seen);
    }

    /// <summary>testvideo.mp4 uploaded and indexed, and the id of the trace its upload request began.</summary>
    private async Task<(Guid Id, string TraceId)> IndexedVideoAsync(HttpClient client, string fileName)
    {
        var id = await VideoUploadTests.UploadAsync(client, await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation), fileName);
        await PipelineTests.WaitForAsync(client, id, v => v.GetProperty("state").GetString() == "indexed", "indexed");
        return (id, await UploadTraceIdAsync(id));
    }

    private async Task<string> UploadTraceIdAsync(Guid id)
    {
        await using var connection = new NpgsqlConnection(graph.DatabaseConnectionString);
        await connection.OpenAsync(Cancellation);
        await using var command = new NpgsqlCommand("SELECT \"TraceParent\" FROM \"Videos\" WHERE \"Id\" = $1", connection) { Parameters = { new() { Value = id } } };
        var traceParent = (string)(await command.ExecuteScalarAsync(Cancellation))!;
        return traceParent.Split('-')[1]; // 00-<trace id>-<span id>-<flags>
    }
}
