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
/// Runs the pipeline's stage graph as one Hangfire job per stage. It owns what stages must not: one run of a stage at
/// a time (whichever job asked), the stage's attempts and state (through the transitions on <see cref="Video"/> and
/// <see cref="StageRun"/>), heartbeats, retries, and enqueuing every stage whose needs are met once a stage ends —
/// so the audio and picture branches run at once, and a stage that already succeeded is never redone by a retry or a
/// duplicate delivery. Each change of state happens under the video's lock, held for that change only.
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
    private int _running;
    private static readonly TimeSpan BusyRetryDelay = TimeSpan.FromSeconds(15);

    private static readonly Histogram<double> StageDuration = HeimdexTelemetry.Meter.CreateHistogram<double>(
        "heimdex.stage.duration", "s", "How long a pipeline stage ran, by stage and outcome: succeeded, skipped, failed (the video fails), timedout (stopped at the stage timeout: the video fails), error (it threw: retried until attempts run out), interrupted (worker shutdown), deleted (the video was deleted meanwhile).");

    public async Task RunAsync(Guid videoId, string? fromStage, CancellationToken cancellationToken)
    {
        Activity.Current?.SetTag(HeimdexTelemetry.VideoId, videoId);
        using var logScope = logger.BeginScope(HeimdexTelemetry.Scope((HeimdexTelemetry.VideoId, videoId)));
        var redo = fromStage is null ? new HashSet<string>() : registry.WithDependents(fromStage); // unknown names fail here, visibly
        await ChangeAsync(videoId, (video, _) =>
        {
            video.Resume(redo, time.GetUtcNow());
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// For the watchdog: a video that has waited too long with no live job. Its failed stages start over, and its
    /// queued ones, whose jobs were lost, are enqueued again.
    /// </summary>
    public Task ResumeLostAsync(Guid videoId, CancellationToken cancellationToken) =>
        ChangeAsync(videoId, (video, enqueue) =>
        {
            video.Resume(new HashSet<string>(), time.GetUtcNow());
            foreach (var lost in video.Stages.Where(s => s.State == StageState.Queued))
            {
                enqueue(lost, "its job was lost; enqueued again by the watchdog");
            }

            return true;
        }, cancellationToken);

    /// <summary>
    /// For the watchdog: a running stage went silent (its worker died) or overran the stage timeout. Unless it moved on
    /// meanwhile, it fails, taking the video with it, or (silent, with attempts left) is enqueued to resume.
    /// </summary>
    public Task TakeOverAsync(Guid videoId, string stageName, int attempt, string? failure, CancellationToken cancellationToken) =>
        ChangeAsync(videoId, (video, enqueue) =>
        {
            var run = video.Stage(stageName);
            if (run.State != StageState.Running || run.Attempt != attempt)
            {
                return false; // it moved on meanwhile
            }

            if (failure is null && run.Attempt < options.Value.MaxAttempts)
            {
                run.Interrupt($"its worker stopped responding during attempt {run.Attempt}; resumed by the watchdog", null);
                enqueue(run, null);
                logger.LogWarning("Resumed {Stage} of video {VideoId}: its worker stopped responding", stageName, videoId);
                return true;
            }

            // The job that ran it is disowned: Hangfire delivering it again later must not revive the video.
            var reason = failure ?? $"its worker stopped responding {run.Attempt} times";
            video.FailStage(run, reason, time.GetUtcNow(), disownJob: true);
            logger.LogWarning("Failed {Stage} of video {VideoId}: {Reason}", stageName, videoId, reason);
            return true;
        }, cancellationToken);

    [DisplayName("{1} · video {0}")]
    public async Task RunStageAsync(Guid videoId, string stageName, PerformContext? job, CancellationToken cancellationToken)
    {
        var activity = Activity.Current?.SetTag(HeimdexTelemetry.VideoId, videoId).SetTag(HeimdexTelemetry.Stage, stageName);
        activity?.DisplayName = $"stage {stageName}";
        using var logScope = logger.BeginScope(HeimdexTelemetry.Scope((HeimdexTelemetry.VideoId, videoId), (HeimdexTelemetry.Stage, stageName)));
        var stageType = registry.TypeOf(stageName);
        var jobId = job?.BackgroundJob.Id;
        await using var stageLock = await AdvisoryLock.TryAcquireAsync(dataSource, $"{LockScope} stage {stageName}", videoId, cancellationToken);
        if (stageLock is null)
        {
            // This stage of this video is running under another job (a duplicate delivery, a watchdog resume): come back later.
            activity?.AddEvent(new ActivityEvent($"deferred by {BusyRetryDelay.TotalSeconds:0} s: another job is running this stage"));
            jobs.Schedule<PipelineRunner>(r => r.RunStageAsync(videoId, stageName, null, CancellationToken.None), BusyRetryDelay);
            return;
        }

        (Guid RunId, int Attempt)? started = null;
        await ChangeAsync(videoId, (video, _) =>
        {
            var run = video.Stage(stageName);
            if (run.IsDone)
            {
                return true; // a duplicate or a retry of finished work: the change only makes sure the pipeline moves on
            }

            if (WhyNotNow(video, run, jobId) is { } notNow)
            {
                // A job Hangfire redelivered after its worker died, or one a reprocess made stale: it must not revive or reorder.
                activity?.AddEvent(new ActivityEvent($"not run: {notNow}"));
                logger.LogWarning("A job for {Stage} of video {VideoId} was not run: {Reason}", stageName, videoId, notNow);
                return false;
            }

            video.StartStage(run, jobId, time.GetUtcNow());
            started = (run.Id, run.Attempt);
            return true;
        }, cancellationToken);
        if (started is not var (runId, attempt))
        {
            return;
        }

        activity?.SetTag(HeimdexTelemetry.Attempt, attempt);
        var result = await ExecuteAsync(videoId, runId, stageName, stageType, attempt, activity, cancellationToken);
        string? failedForGood = null;
        await ChangeAsync(videoId, (video, _) =>
        {
            var run = video.Stage(stageName);
            if (run.State != StageState.Running || run.Attempt != attempt)
            {
                logger.LogWarning("{Stage} of video {VideoId} ended ({Outcome}) after the watchdog had taken it over; its result is dropped", stageName, videoId, result.Outcome);
                return false;
            }

            failedForGood = Finish(video, run, result);
            return true;
        }, CancellationToken.None);

        if (result.Outcome == StageOutcomeKind.Interrupted)
        {
            throw new OperationCanceledException(cancellationToken); // Hangfire runs the job again when a worker starts
        }

        if (failedForGood is not null)
        {
            throw new StageFailedException(failedForGood); // the job shows as failed in the dashboard, where Requeue resumes it
        }
    }

    /// <summary>Records how the stage's run ended; returns the reason when the stage failed for good after its retries.</summary>
    private string? Finish(Video video, StageRun run, StageResult result)
    {
        var now = time.GetUtcNow();
        switch (result.Outcome)
        {
            case StageOutcomeKind.Succeeded:
                video.FinishStage(run, result.Done!.Skipped ? result.Done.Reason ?? "nothing to do" : null, result.Done.OutputKeys, now);
                return null;
            case StageOutcomeKind.Failed or StageOutcomeKind.TimedOut:
                video.FailStage(run, result.Reason!, now);
                logger.LogWarning("Video {VideoId} failed at {Stage}: {Reason}", video.Id, run.Stage, result.Reason);
                return null;
            case StageOutcomeKind.Interrupted:
                run.Interrupt("interrupted by a worker shutdown; it resumes when a worker takes the job again", null);
                return null;
            case StageOutcomeKind.Deleted:
                return null; // the change found no video: it removed what the stage stored
            case StageOutcomeKind.Error when run.Attempt < options.Value.MaxAttempts:
                var delay = options.Value.RetryDelay(run.Attempt);
                var retry = jobs.Schedule<PipelineRunner>(r => r.RunStageAsync(video.Id, run.Stage, null, CancellationToken.None), delay);
                run.Retry(result.Reason!, retry, now + delay);
                logger.LogWarning("{Stage} of video {VideoId} failed on attempt {Attempt}; retrying in {Delay}: {Reason}", run.Stage, video.Id, run.Attempt, delay, result.Reason);
                return null;
            default:
                var reason = $"failed after every retry ({run.Attempt} attempts): {result.Reason}";
                video.FailStage(run, reason, now);
                logger.LogWarning("Video {VideoId} failed at {Stage}: {Reason}", video.Id, run.Stage, reason);
                return reason;
        }
    }

    /// <summary>Runs the stage with its heartbeat and timeout; whatever happens is returned, never thrown.</summary>
    private async Task<StageResult> ExecuteAsync(
        Guid videoId, Guid runId, string stageName, Type stageType, int attempt, Activity? activity, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
        var started = Stopwatch.GetTimestamp();
        StageResult Record(StageResult result)
        {
            StageDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("stage", stageName), new KeyValuePair<string, object?>("outcome", result.Done?.Skipped == true ? "skipped" : result.Outcome.ToString().ToLowerInvariant()));
            if (result.Reason is not null)
            {
                activity?.SetStatus(ActivityStatusCode.Error, result.Reason);
            }

            return result;
        }

        var workDirectory = Directory.CreateDirectory(Path.Combine(options.Value.WorkDirectory, $"{videoId:N}-{stageName}")).FullName;
        Interlocked.Increment(ref _running);
        int FreeCores() => Math.Max(1, Environment.ProcessorCount - (Volatile.Read(ref _running) - 1));
        await using var heartbeat = new StageHeartbeat(dataSource, runId, options.Value.HeartbeatInterval, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, heartbeat.VideoDeleted);
        timeout.CancelAfter(options.Value.StageTimeout);
        try
        {
            if (await db.Videos.FirstOrDefaultAsync(v => v.Id == videoId, cancellationToken) is not { } video)
            {
                return Record(StageResult.Deleted);
            }

            var stage = (IPipelineStage)scope.ServiceProvider.GetRequiredService(stageType);
            var outcome = await stage.ExecuteAsync(new StageContext(video, db, scope.ServiceProvider.GetRequiredService<ObjectStore>(), workDirectory, attempt, FreeCores), heartbeat, timeout.Token);
            await db.SaveChangesAsync(CancellationToken.None);
            return Record(new StageResult(StageOutcomeKind.Succeeded, null, outcome));
        }
        catch (PermanentStageFailure failure)
        {
            activity.RecordFailure(failure);
            return Record(new StageResult(StageOutcomeKind.Failed, ErrorText.Of(failure), null));
        }
        catch (OperationCanceledException) when (heartbeat.VideoDeleted.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Record(StageResult.Deleted); // stopped at its next beat after the delete, its ffmpeg with it
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Cancelled here, not by a shutdown: whatever it ran (ffmpeg included) has been stopped, and the slot is free.
            return Record(new StageResult(StageOutcomeKind.TimedOut, $"ran longer than the stage timeout of {options.Value.StageTimeout} and was stopped", null));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Record(new StageResult(StageOutcomeKind.Interrupted, null, null));
        }
        catch (Exception error)
        {
            activity.RecordFailure(error);
            return Record(new StageResult(StageOutcomeKind.Error, ErrorText.Of(error), null));
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            await heartbeat.StopAsync();
            Directory.Delete(workDirectory, recursive: true);
        }
    }

    /// <summary>
    /// Changes the video's pipeline state under its lock; when <paramref name="change"/> did change it (returned true),
    /// enqueues every stage the change left ready (and any it asked for through its second argument), saving both
    /// together. A video that no longer exists has its leftover objects removed instead.
    /// </summary>
    private async Task ChangeAsync(Guid videoId, Func<Video, Action<StageRun, string?>, bool> change, CancellationToken cancellationToken)
    {
        await using var videoLock = await AdvisoryLock.AcquireAsync(dataSource, LockScope, videoId, cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
        var video = await db.Videos.Include(v => v.Stages).FirstOrDefaultAsync(v => v.Id == videoId, cancellationToken);
        if (video is null)
        {
            await ForgetDeletedAsync(scope, videoId, CancellationToken.None);
            return;
        }

        EnsureStageRows(video);
        void Enqueue(StageRun run, string? reason) =>
            run.Enqueue(jobs.Enqueue<PipelineRunner>(runner => runner.RunStageAsync(videoId, run.Stage, null, CancellationToken.None)), reason);
        if (!change(video, Enqueue))
        {
            return;
        }

        foreach (var ready in registry.Ready(video).ToList())
        {
            Enqueue(ready, null);
        }

        await db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>
    /// The video was deleted, perhaps while one of its stages was still writing: whatever that stage stored after the
    /// API removed the video's objects goes too.
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
    /// (a reprocess makes the video processing again, with new jobs), or a stage this one needs has not succeeded.
    /// </summary>
    private string? WhyNotNow(Video video, StageRun run, string? jobId)
    {
        if (video.State == VideoState.Failed && (jobId is null || jobId != run.JobId))
        {
            return "the video has failed; reprocess it, or requeue its failed job, to resume";
        }

        return registry.UnfinishedNeed(video, run.Stage) is { } need ? $"{need}, which it needs, has not succeeded" : null;
    }

    private enum StageOutcomeKind
    {
        Succeeded,
        Failed,
        TimedOut,
        Error,
        Interrupted,
        Deleted,
    }

    /// <summary>How a run ended: succeeded (with the stage's outcome), failed for good, threw (retried), stopped by a shutdown, or found its video deleted.</summary>
    private sealed record StageResult(StageOutcomeKind Outcome, string? Reason, StageOutcome? Done)
    {
        public static readonly StageResult Deleted = new(StageOutcomeKind.Deleted, null, null);
    }
}

/// <summary>A stage failed for good after its retries: thrown so its Hangfire job ends failed, where the dashboard can requeue it.</summary>
public sealed class StageFailedException(string reason) : Exception(reason);
