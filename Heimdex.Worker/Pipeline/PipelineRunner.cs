using System.ComponentModel;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Hangfire;
using Hangfire.Server;
using Heimdex.Shared.Data;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Telemetry;
using Heimdex.Shared.Videos;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Heimdex.Worker.Pipeline;

/// <summary>
/// Runs the pipeline as one Hangfire job per stage. It owns what stages must not: the per-video lock (one stage of a
/// video at a time, whichever job asked), the stage's state row, heartbeats, the decision to skip a stage that
/// already succeeded (so retries and duplicate deliveries never redo or duplicate work), and enqueuing the next stage.
/// </summary>
public sealed class PipelineRunner(
    IServiceScopeFactory scopes,
    StageRegistry registry,
    IBackgroundJobClient jobs,
    NpgsqlDataSource dataSource,
    IOptions<PipelineOptions> options,
    TimeProvider time,
    ILogger<PipelineRunner> logger) : IVideoPipelineJobs
{
    private const string LockScope = "video";
    private static readonly TimeSpan BusyRetryDelay = TimeSpan.FromSeconds(15);

    private static readonly Histogram<double> StageDuration = HeimdexTelemetry.Meter.CreateHistogram<double>(
        "heimdex.stage.duration", "s", "How long a pipeline stage ran, by stage and outcome: succeeded, skipped, failed (the video fails), timeout (stopped at the stage timeout: the video fails), error (it threw: retried until attempts run out), interrupted (worker shutdown).");

    public async Task RunAsync(Guid videoId, string? fromStage, CancellationToken cancellationToken)
    {
        Activity.Current?.SetTag(HeimdexTelemetry.VideoId, videoId);
        using var logScope = logger.BeginScope(HeimdexTelemetry.Scope((HeimdexTelemetry.VideoId, videoId)));
        if (fromStage is not null)
        {
            registry.TypeOf(fromStage); // unknown names fail here, visibly
        }

        string? next;
        await using (await AdvisoryLock.AcquireAsync(dataSource, LockScope, videoId, cancellationToken))
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            if (await LoadAsync(scope, db, videoId, cancellationToken) is not { } video)
            {
                return;
            }

            var reset = fromStage is null ? [] : registry.Names.SkipWhile(n => n != fromStage).ToHashSet();
            foreach (var run in video.Stages.Where(s => reset.Contains(s.Stage)))
            {
                (run.State, run.Attempt, run.Progress, run.Error, run.StartedAt, run.FinishedAt, run.HeartbeatAt, run.OutputKeys) =
                    (StageState.Pending, 0, 0, null, null, null, null, []);
            }

            next = FirstUnfinished(video);
            (video.State, video.Error, video.UpdatedAt) = (next is null ? VideoState.Indexed : VideoState.Processing, null, time.GetUtcNow());
            await db.SaveChangesAsync(cancellationToken);
        }

        // Enqueued once the lock is released, so the stage's job finds the video free instead of deferring itself.
        if (next is not null)
        {
            await EnqueueStageAsync(videoId, next);
        }
    }

    [DisplayName("{1} · video {0}")]
    public async Task RunStageAsync(Guid videoId, string stageName, PerformContext? job, CancellationToken cancellationToken)
    {
        var activity = Activity.Current?.SetTag(HeimdexTelemetry.VideoId, videoId).SetTag(HeimdexTelemetry.Stage, stageName);
        activity?.DisplayName = $"stage {stageName}";
        using var logScope = logger.BeginScope(HeimdexTelemetry.Scope((HeimdexTelemetry.VideoId, videoId), (HeimdexTelemetry.Stage, stageName)));
        var stageType = registry.TypeOf(stageName);
        bool moveOn;
        await using (var videoLock = await AdvisoryLock.TryAcquireAsync(dataSource, LockScope, videoId, cancellationToken))
        {
            if (videoLock is null)
            {
                // Another stage of this video is running (a duplicate delivery, a watchdog resume): come back later.
                activity?.AddEvent(new ActivityEvent($"deferred by {BusyRetryDelay.TotalSeconds:0} s: another job of this video holds its lock"));
                await RecordJobAsync(videoId, stageName, jobs.Schedule<PipelineRunner>(r => r.RunStageAsync(videoId, stageName, null, CancellationToken.None), BusyRetryDelay));
                return;
            }

            moveOn = await RunLockedStageAsync(videoId, stageName, stageType, job?.BackgroundJob.Id, activity, cancellationToken);
        }

        // Enqueued once the lock is released, so the next stage's job finds the video free instead of deferring itself.
        if (moveOn && registry.After(stageName) is { } next)
        {
            await EnqueueStageAsync(videoId, next);
        }
    }

    /// <summary>Runs the stage under the video's lock; true when the pipeline moves on to the next stage.</summary>
    private async Task<bool> RunLockedStageAsync(
        Guid videoId, string stageName, Type stageType, string? jobId, Activity? activity, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
        if (await LoadAsync(scope, db, videoId, cancellationToken) is not { } video)
        {
            return false;
        }
        var run = video.Stages.Single(s => s.Stage == stageName);
        if (run.State is StageState.Succeeded or StageState.Skipped)
        {
            return true; // a duplicate or a retry of finished work: only make sure the pipeline moves on
        }

        if (WhyNotNow(video, run, jobId) is { } notNow)
        {
            // A job Hangfire redelivered after its worker died, or one a reprocess made stale: it must not revive or reorder.
            activity?.AddEvent(new ActivityEvent($"not run: {notNow}"));
            logger.LogWarning("A job for {Stage} of video {VideoId} was not run: {Reason}", stageName, videoId, notNow);
            return false;
        }

        var now = time.GetUtcNow();
        (run.State, run.Attempt, run.Progress, run.Error, run.StartedAt, run.FinishedAt, run.HeartbeatAt) =
            (StageState.Running, run.Attempt + 1, 0, null, now, null, now);
        (video.State, video.Error, video.UpdatedAt) = (VideoState.Processing, null, now);
        await db.SaveChangesAsync(cancellationToken);
        activity?.SetTag(HeimdexTelemetry.Attempt, run.Attempt);

        var started = Stopwatch.GetTimestamp();
        void Record(string outcome) => StageDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>("stage", stageName), new KeyValuePair<string, object?>("outcome", outcome));
        var workDirectory = Directory.CreateDirectory(Path.Combine(options.Value.WorkDirectory, $"{videoId:N}-{stageName}")).FullName;
        await using var heartbeat = new StageHeartbeat(dataSource, run.Id, options.Value.HeartbeatInterval, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.StageTimeout);
        try
        {
            var stage = (IPipelineStage)scope.ServiceProvider.GetRequiredService(stageType);
            var outcome = await stage.ExecuteAsync(
                new StageContext(video, db, scope.ServiceProvider.GetRequiredService<ObjectStore>(), workDirectory, run.Attempt), heartbeat, timeout.Token);
            await heartbeat.StopAsync();
            (run.State, run.Progress, run.Error, run.OutputKeys, run.FinishedAt) =
                (outcome.Skipped ? StageState.Skipped : StageState.Succeeded, 100, outcome.Reason, [.. outcome.OutputKeys], time.GetUtcNow());
            video.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
            Record(outcome.Skipped ? "skipped" : "succeeded");
        }
        catch (PermanentStageFailure failure)
        {
            await heartbeat.StopAsync();
            db.ChangeTracker.Clear();
            await MarkFailedAsync(db, videoId, stageName, ErrorText.Of(failure), videoFails: true);
            logger.LogWarning("Video {VideoId} failed at {Stage}: {Reason}", videoId, stageName, failure.Message);
            activity.RecordFailure(failure);
            Record("failed");
            return false;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Cancelled here, not by a shutdown: whatever it ran (ffmpeg included) has been stopped, and the slot is free.
            await heartbeat.StopAsync();
            db.ChangeTracker.Clear();
            var reason = $"ran longer than the stage timeout of {options.Value.StageTimeout} and was stopped";
            await MarkFailedAsync(db, videoId, stageName, reason, videoFails: true);
            logger.LogWarning("Video {VideoId} failed at {Stage}: {Reason}", videoId, stageName, reason);
            activity?.SetStatus(ActivityStatusCode.Error, reason);
            Record("timeout");
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await heartbeat.StopAsync();
            db.ChangeTracker.Clear();
            await MarkPendingAsync(db, run.Id, "interrupted by a worker shutdown; it resumes when a worker takes the job again");
            Record("interrupted");
            throw;
        }
        catch (Exception error)
        {
            await heartbeat.StopAsync();
            db.ChangeTracker.Clear();
            if (!await db.Videos.AnyAsync(v => v.Id == videoId, CancellationToken.None))
            {
                // Deleted while the stage ran (its save failed): what it stored goes now, not when a retry finds no video.
                await ForgetDeletedAsync(scope, videoId, CancellationToken.None);
                Record("deleted");
                return false;
            }

            await MarkFailedAsync(db, videoId, stageName, ErrorText.Of(error), videoFails: false);
            Record("error");
            throw; // Hangfire retries with backoff; the state filter fails the video when attempts run out
        }
        finally
        {
            Directory.Delete(workDirectory, recursive: true);
        }

        return true;
    }

    /// <summary>The video with a row for every registered stage, or null (after cleaning up) when it was deleted.</summary>
    private async Task<Video?> LoadAsync(AsyncServiceScope scope, HeimdexDbContext db, Guid videoId, CancellationToken cancellationToken)
    {
        var video = await db.Videos.Include(v => v.Stages).FirstOrDefaultAsync(v => v.Id == videoId, cancellationToken);
        if (video is null)
        {
            await ForgetDeletedAsync(scope, videoId, cancellationToken);
            return null;
        }

        EnsureStageRows(video);
        return video;
    }

    /// <summary>
    /// The video was deleted, perhaps while one of its stages was still writing: whatever that stage stored after the
    /// API removed the video's objects goes too (this runs again when the interrupted stage's retry finds no video).
    /// </summary>
    private async Task ForgetDeletedAsync(AsyncServiceScope scope, Guid videoId, CancellationToken cancellationToken)
    {
        await scope.ServiceProvider.GetRequiredService<ObjectStore>().DeletePrefixAsync(StorageKeys.VideoPrefix(videoId), cancellationToken);
        logger.LogInformation("Video {VideoId} was deleted; its pipeline stops and its leftover objects are removed", videoId);
    }

    private void EnsureStageRows(Video video)
    {
        foreach (var (name, position) in registry.Names.Select((name, position) => (name, position)))
        {
            if (video.Stages.FirstOrDefault(s => s.Stage == name) is { } run)
            {
                run.Position = position; // a stage added to the pipeline later moves the ones after it
            }
            else
            {
                video.Stages.Add(new StageRun { VideoId = video.Id, Stage = name, Position = position });
            }
        }
    }

    /// <summary>
    /// Why a job for this stage must not run now: the video failed and this is not the stage's own job being requeued
    /// (a reprocess makes the video processing again, with new jobs), or a stage this one depends on has not succeeded.
    /// </summary>
    private string? WhyNotNow(Video video, StageRun run, string? jobId)
    {
        if (video.State == VideoState.Failed && (jobId is null || jobId != run.JobId))
        {
            return "the video has failed; reprocess it, or requeue its failed job, to resume";
        }

        // This stage is unfinished itself, so the first unfinished one is either it or one it depends on.
        return FirstUnfinished(video) is { } unfinished && unfinished != run.Stage ? $"{unfinished}, which it depends on, has not succeeded" : null;
    }

    private string? FirstUnfinished(Video video) =>
        registry.Names.FirstOrDefault(name => video.Stages.Single(s => s.Stage == name).State is not (StageState.Succeeded or StageState.Skipped));

    public async Task EnqueueStageAsync(Guid videoId, string stageName) =>
        await RecordJobAsync(videoId, stageName, jobs.Enqueue<PipelineRunner>(runner => runner.RunStageAsync(videoId, stageName, null, CancellationToken.None)));

    /// <summary>The stage's current job, so the watchdog can ask Hangfire whether work for it is still queued or running.</summary>
    private async Task RecordJobAsync(Guid videoId, string stageName, string jobId)
    {
        await using var command = dataSource.CreateCommand("UPDATE \"StageRuns\" SET \"JobId\" = $1 WHERE \"VideoId\" = $2 AND \"Stage\" = $3");
        command.Parameters.Add(new NpgsqlParameter { Value = jobId });
        command.Parameters.Add(new NpgsqlParameter { Value = videoId });
        command.Parameters.Add(new NpgsqlParameter { Value = stageName });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Records a stage's failure; with <paramref name="videoFails"/>, the video fails too, naming the stage and the reason.</summary>
    public async Task MarkFailedAsync(HeimdexDbContext db, Guid videoId, string stageName, string reason, bool videoFails, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        await db.StageRuns.Where(s => s.VideoId == videoId && s.Stage == stageName).ExecuteUpdateAsync(set => set
            .SetProperty(s => s.State, StageState.Failed).SetProperty(s => s.Error, reason).SetProperty(s => s.FinishedAt, now), cancellationToken);
        if (videoFails)
        {
            await db.Videos.Where(v => v.Id == videoId).ExecuteUpdateAsync(set => set
                .SetProperty(v => v.State, VideoState.Failed).SetProperty(v => v.Error, $"{stageName}: {reason}").SetProperty(v => v.UpdatedAt, now), cancellationToken);
        }
    }

    private static async Task MarkPendingAsync(HeimdexDbContext db, Guid runId, string reason) =>
        await db.StageRuns.Where(s => s.Id == runId).ExecuteUpdateAsync(set => set
            .SetProperty(s => s.State, StageState.Pending).SetProperty(s => s.Error, reason));
}
