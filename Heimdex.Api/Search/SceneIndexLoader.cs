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
public sealed class SceneIndexLoader : BackgroundService, IHealthCheck
{
    private readonly IServiceScopeFactory _scopes;
    private readonly SceneIndexes _indexes;
    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<SceneIndexLoader> _logger;
    private readonly SceneReloadQueue _reloads;
    private volatile bool _loaded;
    private int _videosLoaded;
    private int _videosToLoad;

    public SceneIndexLoader(IServiceScopeFactory scopes, SceneIndexes indexes, IConnectionMultiplexer redis, ILogger<SceneIndexLoader> logger)
    {
        _scopes = scopes;
        _indexes = indexes;
        _redis = redis;
        _logger = logger;
        _reloads = new SceneReloadQueue(ReloadAsync, logger, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1));
    }

    public SearchIndexStatus Status => new(_loaded, Volatile.Read(ref _videosLoaded), Volatile.Read(ref _videosToLoad), _reloads.Pending,
        _indexes.Text.Status, _indexes.Visual.Status, _indexes.Faces.Status);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_loaded
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"loading the search indexes: {Volatile.Read(ref _videosLoaded)} of {Volatile.Read(ref _videosToLoad)} videos"));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Subscribe first: a video indexed while the rest loads is reloaded after, not missed.
        await _redis.GetSubscriber().SubscribeAsync(SceneChanges.Channel, (channel, message) =>
        {
            if (Guid.TryParse(message.ToString(), out var videoId))
            {
                _reloads.Enqueue(videoId);
            }
        });

        await LoadAllAsync(stoppingToken);
        _loaded = true;
        _logger.LogInformation("Search indexes loaded from {Videos} videos: {Status}", _videosLoaded, Status);
        await _reloads.RunAsync(stoppingToken);
    }

    private async Task LoadAllAsync(CancellationToken stoppingToken)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                await using var scope = _scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
                var videos = await db.Videos.AsNoTracking().Select(v => v.Id).ToListAsync(stoppingToken);
                _videosToLoad = videos.Count;
                _videosLoaded = 0;
                foreach (var videoId in videos)
                {
                    await ReloadAsync(db, videoId, stoppingToken);
                    Interlocked.Increment(ref _videosLoaded);
                }

                return;
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                var delay = _reloads.RetryDelay(failures);
                _logger.LogWarning(error, "Loading the search indexes failed ({Failures} times); trying again in {Delay}", failures, delay);
                await Task.Delay(delay, stoppingToken);
            }
        }
    }

    private async Task ReloadAsync(Guid videoId, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        await ReloadAsync(scope.ServiceProvider.GetRequiredService<HeimdexDbContext>(), videoId, cancellationToken);
    }

    private async Task ReloadAsync(HeimdexDbContext db, Guid videoId, CancellationToken cancellationToken)
    {
        var owner = await db.Videos.AsNoTracking().Where(v => v.Id == videoId).Select(v => (Guid?)v.OwnerId).FirstOrDefaultAsync(cancellationToken);
        if (owner is null)
        {
            _indexes.Text.Remove(videoId);
            _indexes.Visual.Remove(videoId);
            _indexes.Faces.Remove(videoId);
            return;
        }

        var scenes = await db.SceneEmbeddings.AsNoTracking().Where(e => e.VideoId == videoId && e.Space == SentenceEncoder.Space)
            .Select(e => new { e.SceneId, e.Vector }).ToListAsync(cancellationToken);
        _indexes.Text.Replace(owner.Value, videoId, scenes.Select(s => (s.SceneId, s.Vector)));
        var frames = await db.SceneFrames.AsNoTracking().Where(f => f.VideoId == videoId)
            .Select(f => new { f.SceneId, f.Descriptor }).ToListAsync(cancellationToken);
        _indexes.Visual.Replace(owner.Value, videoId, frames.Select(f => (f.SceneId, f.Descriptor)));
        var faces = await db.Faces.AsNoTracking().Where(f => f.VideoId == videoId)
            .Select(f => new { f.SceneId, f.Embedding }).ToListAsync(cancellationToken);
        _indexes.Faces.Replace(owner.Value, videoId, faces.Select(f => (f.SceneId, f.Embedding)));
    }
}
