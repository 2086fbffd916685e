using Heimdex.Shared.Data;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Search;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Heimdex.Api.Search;

/// <summary>What the API's vector indexes hold and whether they are complete, for operators and benchmarks.</summary>
public sealed record SearchIndexStatus(bool Loaded, int VideosLoaded, int VideosToLoad, int PendingReloads,
    VectorIndexStatus Text, VectorIndexStatus Visual, VectorIndexStatus Faces);

/// <summary>
/// Fills the vector indexes from Postgres at start, then reloads each video the worker (or a delete) announces.
/// Until the first load is complete the API reports itself unhealthy: a search before then would silently miss scenes.
/// </summary>
public sealed class SceneIndexLoader(IServiceScopeFactory scopes, SceneIndexes indexes, IConnectionMultiplexer redis, ILogger<SceneIndexLoader> logger)
    : BackgroundService, IHealthCheck
{
    private volatile bool _loaded;
    private int _videosLoaded;
    private int _videosToLoad;
    private int _pendingReloads;

    public SearchIndexStatus Status => new(_loaded, Volatile.Read(ref _videosLoaded), Volatile.Read(ref _videosToLoad), Volatile.Read(ref _pendingReloads),
        indexes.Text.Status, indexes.Visual.Status, indexes.Faces.Status);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_loaded
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"loading the search indexes: {Volatile.Read(ref _videosLoaded)} of {Volatile.Read(ref _videosToLoad)} videos"));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Subscribe first: a video indexed while the rest loads is reloaded after, not missed.
        await redis.GetSubscriber().SubscribeAsync(SceneChanges.Channel, (channel, message) =>
        {
            if (Guid.TryParse(message.ToString(), out var videoId))
            {
                _ = ReloadSafelyAsync(videoId, stoppingToken);
            }
        });

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
        var videos = await db.Videos.AsNoTracking().Select(v => v.Id).ToListAsync(stoppingToken);
        _videosToLoad = videos.Count;
        foreach (var videoId in videos)
        {
            await ReloadAsync(db, videoId, stoppingToken);
            Interlocked.Increment(ref _videosLoaded);
        }

        _loaded = true;
        logger.LogInformation("Search indexes loaded from {Videos} videos: {Status}", videos.Count, Status);
    }

    private async Task ReloadSafelyAsync(Guid videoId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _pendingReloads);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await ReloadAsync(scope.ServiceProvider.GetRequiredService<HeimdexDbContext>(), videoId, cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            logger.LogError(error, "Reloading the vectors of video {VideoId} failed", videoId);
        }
        finally
        {
            Interlocked.Decrement(ref _pendingReloads);
        }
    }

    private async Task ReloadAsync(HeimdexDbContext db, Guid videoId, CancellationToken cancellationToken)
    {
        var owner = await db.Videos.AsNoTracking().Where(v => v.Id == videoId).Select(v => (Guid?)v.OwnerId).FirstOrDefaultAsync(cancellationToken);
        if (owner is null)
        {
            indexes.Text.Remove(videoId);
            indexes.Visual.Remove(videoId);
            indexes.Faces.Remove(videoId);
            return;
        }

        var scenes = await db.SceneEmbeddings.AsNoTracking().Where(e => e.VideoId == videoId && e.Space == SentenceEncoder.Space)
            .Select(e => new { e.SceneId, e.Vector }).ToListAsync(cancellationToken);
        indexes.Text.Replace(owner.Value, videoId, scenes.Select(s => (s.SceneId, s.Vector)));
        var frames = await db.SceneFrames.AsNoTracking().Where(f => f.VideoId == videoId)
            .Select(f => new { f.SceneId, f.Descriptor }).ToListAsync(cancellationToken);
        indexes.Visual.Replace(owner.Value, videoId, frames.Select(f => (f.SceneId, f.Descriptor)));
        var faces = await db.Faces.AsNoTracking().Where(f => f.VideoId == videoId)
            .Select(f => new { f.SceneId, f.Embedding }).ToListAsync(cancellationToken);
        indexes.Faces.Replace(owner.Value, videoId, faces.Select(f => (f.SceneId, f.Embedding)));
    }
}
