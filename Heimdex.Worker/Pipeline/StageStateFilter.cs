using Hangfire.States;
using Hangfire.Storage;
using Heimdex.Shared.Data;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Telemetry;
using Heimdex.Shared.Videos;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Pipeline;

/// <summary>
/// Keeps our stage rows in step with what Hangfire decides about a stage job: a retry is scheduled (pending, with the
/// reason), retries are exhausted (the video fails with the stage and the reason), or a failed job is requeued from
/// the dashboard (the video is processing again and resumes at that stage).
/// </summary>
public sealed class StageStateFilter(IServiceScopeFactory scopes, TimeProvider time, ILogger<StageStateFilter> logger) : IApplyStateFilter
{
    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (context.BackgroundJob.Job is not { Method.Name: nameof(PipelineRunner.RunStageAsync) } job
            || job.Args is not [Guid videoId, string stage, ..])
        {
            return;
        }

        try
        {
            Apply(context, videoId, stage);
        }
        catch (Exception error) when (error is DbUpdateException or InvalidOperationException or Npgsql.NpgsqlException)
        {
            // Never let our bookkeeping break Hangfire's own state change; the watchdog repairs what is missed here.
            logger.LogError(error, "Could not record {State} of {Stage} for video {VideoId}", context.NewState.Name, stage, videoId);
        }
    }

    private void Apply(ApplyStateContext context, Guid videoId, string stage)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
        var run = db.StageRuns.FirstOrDefault(s => s.VideoId == videoId && s.Stage == stage);
        var video = db.Videos.FirstOrDefault(v => v.Id == videoId);
        if (run is null || video is null)
        {
            return; // deleted meanwhile
        }

        switch (context.NewState)
        {
            case ScheduledState scheduled when scheduled.Reason?.StartsWith("Retry attempt", StringComparison.Ordinal) == true:
                (run.State, run.Error) = (StageState.Pending, $"attempt {run.Attempt} failed: {run.Error}; retrying at {scheduled.EnqueueAt:u}");
                break;
            case FailedState failed:
                (run.State, run.Error) = (StageState.Failed, ErrorText.Of(failed.Exception));
                (video.State, video.Error) = (VideoState.Failed, $"{stage} failed after every retry: {ErrorText.Of(failed.Exception)}");
                break;
            case EnqueuedState when context.OldStateName == FailedState.StateName:
                (run.State, run.Error) = (StageState.Pending, null);
                (video.State, video.Error) = (VideoState.Processing, null);
                break;
            default:
                return;
        }

        video.UpdatedAt = time.GetUtcNow();
        db.SaveChanges();
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }
}
