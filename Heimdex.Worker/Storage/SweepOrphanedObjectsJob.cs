using Heimdex.Shared.Data;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Uploads;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Heimdex.Worker.Storage;

/// <summary>
/// Recurring: removes what storage holds for videos and people that have no row — left when a process died between
/// storing bytes and saving their row, or between deleting a row and its objects. Only objects older than
/// <see cref="UploadOptions.OrphanAfter"/> go, so bytes whose row is about to be saved are never taken for orphans.
/// </summary>
public sealed class SweepOrphanedObjectsJob(
    HeimdexDbContext db, ObjectStore store, IOptions<UploadOptions> options, TimeProvider time, ILogger<SweepOrphanedObjectsJob> logger)
{
    public const string RecurringJobId = "sweep-orphaned-objects";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = (time.GetUtcNow() - options.Value.OrphanAfter).UtcDateTime;
        await SweepAsync("videos/", ids => db.Videos.Where(v => ids.Contains(v.Id)).Select(v => v.Id), cutoff, cancellationToken);
        await SweepAsync("people/", ids => db.People.Where(p => ids.Contains(p.Id)).Select(p => p.Id), cutoff, cancellationToken);
    }

    /// <summary>Objects under <paramref name="root"/> are named <c>root/{owner id}/…</c>; those whose owner has no row go.</summary>
    private async Task SweepAsync(string root, Func<Guid[], IQueryable<Guid>> existing, DateTime cutoff, CancellationToken cancellationToken)
    {
        var removed = await store.DeleteOrphansAsync(root, cutoff, async (keys, cancellation) =>
        {
            var owned = keys
                .Select(key => (Key: key, Owner: Guid.TryParseExact(key[root.Length..].Split('/')[0], "N", out var id) ? id : (Guid?)null))
                .Where(item => item.Owner is not null)
                .ToList();
            var alive = (await existing([.. owned.Select(item => item.Owner!.Value).Distinct()]).ToListAsync(cancellation)).ToHashSet();
            return owned.Where(item => !alive.Contains(item.Owner!.Value)).Select(item => item.Key);
        }, cancellationToken);
        if (removed > 0)
        {
            logger.LogInformation("Removed {Count} objects under {Root} that no row owns", removed, root);
        }
    }
}
