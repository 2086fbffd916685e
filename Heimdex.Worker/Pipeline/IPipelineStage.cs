using Microsoft.EntityFrameworkCore;
using Heimdex.Shared.Data;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Videos;

namespace Heimdex.Worker.Pipeline;

/// <summary>
/// One step of indexing a video, in the manner of Jellyfin's tasks: it reads its inputs from storage and the
/// database, writes outputs under deterministic keys, replaces its rows in one transaction, reports progress and
/// honours cancellation. The <see cref="PipelineRunner"/>, not the stage, owns locking, retries and state.
/// </summary>
public interface IPipelineStage
{
    /// <summary>The stage's name in the database, the API and the dashboard (snake_case).</summary>
    static abstract string StageName { get; }

    /// <summary>What this stage needs to work (programs, model files); each problem in words. Checked at worker start.</summary>
    IEnumerable<string> FindProblems() => [];

    Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken);
}

/// <param name="FreeCores">
/// Cores no other stage of this worker is using at the moment it is asked (at least 1): what a stage that can spread
/// its work may take, asked again as it goes, since other stages start and finish meanwhile.
/// </param>
public sealed record StageContext(Video Video, HeimdexDbContext Db, ObjectStore Store, string WorkDirectory, int Attempt, Func<int> FreeCores)
{
    /// <summary>A retry or a resume of this run (not a first attempt or a reprocess): checkpointed work may be kept.</summary>
    public bool IsResuming => Attempt > 1;

    /// <summary>Replaces a stage's rows for the video in one transaction: a rerun never duplicates them, a failure keeps the old ones.</summary>
    public async Task ReplaceRowsAsync<T>(IQueryable<T> existing, IEnumerable<T> rows, CancellationToken cancellationToken) where T : class
    {
        await using var transaction = await Db.Database.BeginTransactionAsync(cancellationToken);
        await existing.ExecuteDeleteAsync(cancellationToken);
        Db.AddRange(rows);
        await Db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>A fresh URL ffmpeg can stream the original from (with range requests), valid for the stage's run.</summary>
    public Task<string> OriginalUrlAsync() => Store.PresignGetAsync(StorageKeys.VideoOriginal(Video.Id), TimeSpan.FromHours(6));
}

public sealed record StageOutcome(bool Skipped, string? Reason, IReadOnlyList<string> OutputKeys)
{
    public static StageOutcome Done(params string[] outputKeys) => new(false, null, outputKeys);

    public static StageOutcome Skip(string reason) => new(true, reason, []);
}

/// <summary>The input itself is at fault (not a video, no video stream): retrying cannot help, so the video fails at once.</summary>
public sealed class PermanentStageFailure(string reason) : Exception(reason);
