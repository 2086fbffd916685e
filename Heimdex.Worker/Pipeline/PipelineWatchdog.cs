using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Heimdex.Shared.Data;
using Heimdex.Shared.People;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Telemetry;
using Heimdex.Shared.Videos;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Heimdex.Worker.Pipeline;

/// <summary>
/// Makes sure no video is silently stuck. Every interval (one worker at a time): a running stage whose heartbeat went
/// quiet lost its worker and is resumed (or failed once its attempts are spent); a stage running past the stage
/// timeout is failed with that reason; a Hangfire job a dead worker had taken is requeued; a video whose next stage
/// has no live Hangfire job is re-enqueued; so is a reference photo left waiting or processing past the stall
/// timeout, unless its attempts are spent: then it fails.
/// </summary>
public sealed class PipelineWatchdog(
    IServiceScopeFactory scopes, PipelineRunner runner, IPeopleQueue people, NpgsqlDataSource dataSource, JobStorage jobStorage,
    IBackgroundJobClient jobs, IOptions<PipelineOptions> options, TimeProvider time, ILogger<PipelineWatchdog> logger) : BackgroundService
{
    private static readonly Guid LockId = Guid.Parse("5f0c6a8e-4f55-4d1b-9a57-8c1b2a8a7e01");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.WatchdogInterval, time);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                logger.LogError(error, "Pipeline watchdog sweep failed; it runs again next interval");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        await using var sweepLock = await AdvisoryLock.TryAcquireAsync(dataSource, "pipeline-watchdog", LockId, cancellationToken);
        if (sweepLock is null)
        {
            return; // another worker is sweeping
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
        var settings = options.Value;
        var now = time.GetUtcNow();

        var silentSince = now - settings.HeartbeatTimeout;
        var overdueSince = now - settings.StageTimeout;
        var running = await db.StageRuns.AsNoTracking().Where(s => s.State == StageState.Running).ToListAsync(cancellationToken);
        foreach (var run in running)
        {
            var overdue = run.StartedAt < overdueSince;
            if (overdue || (run.HeartbeatAt ?? run.StartedAt) < silentSince)
            {
                var traceParent = await db.Videos.Where(v => v.Id == run.VideoId).Select(v => v.TraceParent).FirstOrDefaultAsync(cancellationToken);
                using var takeOver = HeimdexTelemetry.StartLinkedToVideo($"watchdog takes over {run.Stage}", run.VideoId, traceParent);
                await runner.TakeOverAsync(run.VideoId, run.Stage, run.Attempt, overdue ? $"ran longer than the stage timeout of {settings.StageTimeout}" : null, cancellationToken);
            }
        }

        RequeueJobsOfDeadWorkers(silentSince);

        var stalledSince = now - settings.StallTimeout;
        var waiting = await db.Videos.AsNoTracking().Include(v => v.Stages)
            .Where(v => (v.State == VideoState.Uploaded || v.State == VideoState.Processing) && v.UpdatedAt < stalledSince)
            .Where(v => !v.Stages.Any(s => s.State == StageState.Running))
            .ToListAsync(cancellationToken);
        foreach (var video in waiting)
        {
            // Waiting is fine while Hangfire still holds a queued stage's job (queued, scheduled for a retry, running).
            if (video.Stages.Any(s => s.State == StageState.Queued && s.JobId is { } jobId && IsAlive(jobId)))
            {
                continue;
            }

            using var resume = HeimdexTelemetry.StartLinkedToVideo("watchdog re-enqueues video", video.Id, video.TraceParent);
            await runner.ResumeLostAsync(video.Id, cancellationToken);
            logger.LogWarning("Re-enqueued video {VideoId}: no job was left for it after {StallTimeout}", video.Id, settings.StallTimeout);
        }

        var photos = await db.PersonPhotos
            .Where(p => (p.State == PhotoState.Uploaded || p.State == PhotoState.Processing) && p.UpdatedAt < stalledSince)
            .ToListAsync(cancellationToken);
        foreach (var photo in photos)
        {
            if (photo.GiveUpIfAttemptsSpent(settings.MaxAttempts, now))
            {
                await db.SaveChangesAsync(cancellationToken);
                logger.LogWarning("Reference photo {PhotoId} failed: {Reason}", photo.Id, photo.Error);
                continue;
            }

            photo.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            people.ProcessPhoto(photo.Id);
            logger.LogWarning("Re-enqueued reference photo {PhotoId}: it was still {State} after {StallTimeout}", photo.Id, photo.State, settings.StallTimeout);
        }
    }

    /// <summary>
    /// Hangfire hands a job whose worker died to another only after the storage's invisibility timeout (hours, so that a
    /// long stage is never run twice): until then a stage whose job a worker had taken just before it was killed would
    /// wait, queued. Such a job is requeued now, in either of the two states a kill can leave it in: "processing" on a
    /// server silent since <paramref name="silentSince"/>, or still "enqueued", yet out of its queue, when the worker
    /// died between taking it from the queue and marking it processing (milliseconds apart, so a job taken before
    /// <paramref name="silentSince"/> and not enqueued again since is one no worker is going to run). Should a worker
    /// only have been slow, the runner's stage lock keeps the second delivery from running the stage twice.
    /// </summary>
    private void RequeueJobsOfDeadWorkers(DateTimeOffset silentSince)
    {
        var monitoring = jobStorage.GetMonitoringApi();
        var live = monitoring.Servers().Where(s => s.Heartbeat > silentSince.UtcDateTime).Select(s => s.Name).ToHashSet();
        foreach (var (jobId, job) in monitoring.ProcessingJobs(0, int.MaxValue))
        {
            if (job.InProcessingState && !live.Contains(job.ServerId))
            {
                Requeue(jobId, ProcessingState.StateName, $"the worker {job.ServerId} processing it stopped responding");
            }
        }

        using var connection = jobStorage.GetConnection();
        foreach (var queue in monitoring.Queues())
        {
            foreach (var (jobId, job) in monitoring.FetchedJobs(queue.Name, 0, int.MaxValue))
            {
                if (job.State == EnqueuedState.StateName && job.FetchedAt < silentSince.UtcDateTime &&
                    connection.GetStateData(jobId) is { } state &&
                    state.Data.TryGetValue("EnqueuedAt", out var enqueuedAt) && JobHelper.DeserializeNullableDateTime(enqueuedAt) <= job.FetchedAt)
                {
                    Requeue(jobId, EnqueuedState.StateName, $"a worker took it from the {queue.Name} queue at {job.FetchedAt:O} and never started it");
                }
            }
        }
    }

    private void Requeue(string jobId, string expectedState, string reason)
    {
        if (jobs.ChangeState(jobId, new EnqueuedState(), expectedState))
        {
            logger.LogWarning("Requeued job {JobId}: {Reason}", jobId, reason);
        }
    }

    private static readonly HashSet<string> LiveStates =
        [EnqueuedState.StateName, ScheduledState.StateName, ProcessingState.StateName, AwaitingState.StateName];

    private bool IsAlive(string jobId)
    {
        using var connection = jobStorage.GetConnection();
        return connection.GetStateData(jobId)?.Name is { } state && LiveStates.Contains(state);
    }
}
