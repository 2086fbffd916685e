using System.Diagnostics.Metrics;
using Hangfire;
using Heimdex.Shared.Data;
using Heimdex.Shared.Telemetry;
using Heimdex.Shared.Videos;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Pipeline;

/// <summary>
/// Gauges of the pipeline's backlog: videos by state, jobs by Hangfire state and the length of each queue. Refreshed
/// every 15 s by one query and one look at Hangfire's storage, so a metrics collection never waits on a server.
/// </summary>
public sealed class PipelineGauges : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);
    private readonly IServiceScopeFactory _scopes;
    private readonly JobStorage _jobs;
    private readonly ILogger<PipelineGauges> _logger;
    private IReadOnlyList<Measurement<long>> _videos = [];
    private IReadOnlyList<Measurement<long>> _jobStates = [];
    private IReadOnlyList<Measurement<long>> _queues = [];

    public PipelineGauges(IServiceScopeFactory scopes, JobStorage jobs, ILogger<PipelineGauges> logger)
    {
        (_scopes, _jobs, _logger) = (scopes, jobs, logger);
        HeimdexTelemetry.Meter.CreateObservableGauge("heimdex.videos", () => _videos, "{video}", "Videos by state.");
        HeimdexTelemetry.Meter.CreateObservableGauge("heimdex.jobs", () => _jobStates, "{job}", "Background jobs by Hangfire state.");
        HeimdexTelemetry.Meter.CreateObservableGauge("heimdex.queue.length", () => _queues, "{job}", "Jobs waiting in each Hangfire queue.");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                _logger.LogWarning(error, "Could not refresh the pipeline gauges; they keep their last values");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using (var scope = _scopes.CreateAsyncScope())
        {
            var counts = await scope.ServiceProvider.GetRequiredService<HeimdexDbContext>().Videos
                .GroupBy(v => v.State).Select(g => new { State = g.Key, Count = g.LongCount() })
                .ToDictionaryAsync(g => g.State, g => g.Count, cancellationToken);
            _videos = [.. Enum.GetValues<VideoState>().Select(state => Measure(counts.GetValueOrDefault(state), "state", state.ToString().ToLowerInvariant()))];
        }

        var monitoring = _jobs.GetMonitoringApi();
        var queues = monitoring.Queues();
        _queues = [.. queues.Select(queue => Measure(queue.Length, "queue", queue.Name))];
        _jobStates =
        [
            Measure(queues.Sum(queue => queue.Length), "state", "enqueued"),
            Measure(monitoring.ScheduledCount(), "state", "scheduled"),
            Measure(monitoring.ProcessingCount(), "state", "processing"),
            Measure(monitoring.FailedCount(), "state", "failed"),
        ];
    }

    private static Measurement<long> Measure(long value, string tag, string tagValue) => new(value, new KeyValuePair<string, object?>(tag, tagValue));
}
