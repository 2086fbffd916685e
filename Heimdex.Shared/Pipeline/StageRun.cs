namespace Heimdex.Shared.Pipeline;

/// <summary>Stages whose results the API serves, by the names the worker runs them under.</summary>
public static class PipelineStages
{
    public const string Transcribe = "transcribe";
    public const string Keyframes = "keyframes";
    public const string Notes = "notes";
}

public enum StageState
{
    /// <summary>Waiting for a stage it depends on, or for a reprocess to ask for it.</summary>
    Pending,

    /// <summary>A job for it is queued or scheduled (a retry, a resume).</summary>
    Queued,
    Running,
    Succeeded,
    Failed,
    Skipped,
}

/// <summary>What can happen to a stage run; <see cref="StageRun.AllowedFrom"/> says in which states.</summary>
public enum StageEvent
{
    Enqueue,
    Start,
    Succeed,
    Skip,
    Retry,
    Interrupt,
    Fail,
    Reset,
}

/// <summary>
/// One stage of one video's pipeline: the database's record of where the video stands and why. Its state changes
/// only through the transitions below (the video's, in <see cref="Videos.Video"/>, call them), each allowed from the
/// states in <see cref="AllowedFrom"/>; anything else is a bug and throws.
/// </summary>
public sealed class StageRun
{
    /// <summary>The transition table: the states each event may happen in.</summary>
    public static readonly IReadOnlyDictionary<StageEvent, StageState[]> AllowedFrom = new Dictionary<StageEvent, StageState[]>
    {
        // Queued again: the watchdog re-enqueues a stage whose job Hangfire lost.
        [StageEvent.Enqueue] = [StageState.Pending, StageState.Queued],
        // Pending: a job left queued by a reprocess; Running: the job of a worker that died, delivered again;
        // Failed: the failed job requeued from the dashboard. The runner decides whether such a job may run.
        [StageEvent.Start] = [StageState.Pending, StageState.Queued, StageState.Running, StageState.Failed],
        [StageEvent.Succeed] = [StageState.Running],
        [StageEvent.Skip] = [StageState.Running],
        [StageEvent.Retry] = [StageState.Running],
        // A worker shutting down, or the watchdog taking over from one that went silent.
        [StageEvent.Interrupt] = [StageState.Running],
        [StageEvent.Fail] = [StageState.Queued, StageState.Running],
        // A reprocess, or a resume of a failed video; a running stage must finish (or be failed) first.
        [StageEvent.Reset] = [StageState.Pending, StageState.Queued, StageState.Succeeded, StageState.Failed, StageState.Skipped],
    };

    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid VideoId { get; init; }

    public required string Stage { get; init; }

    /// <summary>Where the stage is listed in the pipeline, first is 0: stages may run before one listed earlier, never before one they depend on.</summary>
    public int Position { get; set; }

    public StageState State { get; private set; } = StageState.Pending;

    /// <summary>Runs started since the stage was last reset: counted here only, once per start.</summary>
    public int Attempt { get; private set; }

    public int Progress { get; private set; }

    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset? FinishedAt { get; private set; }

    /// <summary>Refreshed while the stage runs; a stale heartbeat means its worker died and the watchdog takes over.</summary>
    public DateTimeOffset? HeartbeatAt { get; private set; }

    /// <summary>Why the stage failed, was skipped, or is being retried.</summary>
    public string? Error { get; private set; }

    public List<string> OutputKeys { get; private set; } = [];

    /// <summary>The Hangfire job that runs (or last ran) the stage: only it may resume the stage once the video failed.</summary>
    public string? JobId { get; set; }

    public bool IsDone => State is StageState.Succeeded or StageState.Skipped;

    public void Enqueue(string jobId, string? reason = null)
    {
        Move(StageEvent.Enqueue, StageState.Queued);
        (JobId, Error) = (jobId, reason ?? Error);
    }

    public void Start(string? jobId, DateTimeOffset now)
    {
        Move(StageEvent.Start, StageState.Running);
        (Attempt, Progress, Error, StartedAt, FinishedAt, HeartbeatAt, JobId) = (Attempt + 1, 0, null, now, null, now, jobId ?? JobId);
    }

    public void Succeed(IReadOnlyList<string> outputKeys, DateTimeOffset now)
    {
        Move(StageEvent.Succeed, StageState.Succeeded);
        (Progress, OutputKeys, FinishedAt) = (100, [.. outputKeys], now);
    }

    public void Skip(string reason, DateTimeOffset now)
    {
        Move(StageEvent.Skip, StageState.Skipped);
        (Progress, Error, OutputKeys, FinishedAt) = (100, reason, [], now);
    }

    /// <summary>The attempt failed and another is scheduled as <paramref name="jobId"/>.</summary>
    public void Retry(string reason, string jobId, DateTimeOffset at)
    {
        Move(StageEvent.Retry, StageState.Queued);
        (Error, JobId) = ($"attempt {Attempt} failed: {reason}; retrying at {at:u}", jobId);
    }

    /// <summary>Stopped without finishing, through no fault of its own; <paramref name="jobId"/> (when known) resumes it.</summary>
    public void Interrupt(string reason, string? jobId)
    {
        Move(StageEvent.Interrupt, StageState.Queued);
        (Error, JobId) = (reason, jobId ?? JobId);
    }

    /// <summary>
    /// Failed for good. With <paramref name="disownJob"/>, the job that was running it loses the right to resume it
    /// (its worker died, or it ran too long: Hangfire delivering it again must not revive the video).
    /// </summary>
    public void Fail(string reason, DateTimeOffset now, bool disownJob = false)
    {
        Move(StageEvent.Fail, StageState.Failed);
        (Error, FinishedAt, JobId) = (reason, now, disownJob ? null : JobId);
    }

    public void Reset()
    {
        Move(StageEvent.Reset, StageState.Pending);
        (Attempt, Progress, Error, StartedAt, FinishedAt, HeartbeatAt, OutputKeys) = (0, 0, null, null, null, null, []);
    }

    private void Move(StageEvent happening, StageState to)
    {
        if (!AllowedFrom[happening].Contains(State))
        {
            throw new InvalidOperationException($"Stage {Stage} of video {VideoId} cannot {happening.ToString().ToLowerInvariant()} while {State.ToString().ToLowerInvariant()}.");
        }

        State = to;
    }
}
