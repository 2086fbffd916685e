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
    Pending,
    Running,
    Succeeded,
    Failed,
    Skipped,
}

/// <summary>One stage of one video's pipeline: the database's record of where the video stands and why.</summary>
public sealed class StageRun
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid VideoId { get; init; }

    public required string Stage { get; init; }

    /// <summary>Where the stage runs in the pipeline, first is 0.</summary>
    public int Position { get; set; }

    public StageState State { get; set; } = StageState.Pending;

    public int Attempt { get; set; }

    public int Progress { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Refreshed while the stage runs; a stale heartbeat means its worker died and the watchdog takes over.</summary>
    public DateTimeOffset? HeartbeatAt { get; set; }

    public string? Error { get; set; }

    public List<string> OutputKeys { get; set; } = [];

    public string? JobId { get; set; }
}
