namespace Heimdex.Shared.Pipeline;

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

    public StageState State { get; set; } = StageState.Pending;

    public int Attempt { get; set; }

    public int Progress { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public string? Error { get; set; }

    public List<string> OutputKeys { get; set; } = [];

    public string? JobId { get; set; }
}
