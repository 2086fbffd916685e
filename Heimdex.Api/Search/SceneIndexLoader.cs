using Heimdex.Shared.Data;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Search;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Heimdex.Api.Search;

/// <summary>What the API's vector indexes hold and whether they are complete, for operators and benchmarks.</summary>
public sealed record SearchIndexStatus(bool Loaded, long VectorsLoaded, long VectorsToLoad, int PendingReloads,
    VectorIndexStatus Text, VectorIndexStatus Visual, VectorIndexStatus Faces);

/// <summary>
/// Fills the vector indexes from Postgres at start, one streamed read per space, then reloads each video the worker
/// (or a delete) announces. Until the first load is complete the API reports itself degraded and search answers 503:
/// a search before then would silently miss scenes, while uploads and everything else already work.
/// </summary>
public sealed class SceneIndexLoader : BackgroundService, IHealthCheck
{
    private sealed record VectorRow(Guid OwnerId, Guid VideoId, Guid SceneId, float[] Vector);

    /// <summary>An index and its rows in Postgres, of every video or of one.</summary>
    private sealed record Space(SceneVectorIndex Index, Func<HeimdexDbContext, Guid?, IQueryable<VectorRow>> Rows);

    private readonly IServiceScopeFactory _scopes;
    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<SceneIndexLoader> _logger;
    private readonly SceneIndexes _indexes;
    private readonly SceneReloadQueue _reloads;
    private readonly Space[] _spaces;
    private volatile bool _loaded;
    private long _vectorsLoaded;
    private long _vectorsToLoad;

    public SceneIndexLoader(IServiceScopeFactory scopes, SceneIndexes indexes, IConnectionMultiplexer redis, ILogger<SceneIndexLoader> logger)
    {
        _scopes = scopes;
        _indexes = indexes;
        _redis = redis;
        _logger = logger;
        _reloads = new SceneReloadQueue(ReloadAsync, logger, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1));
        _spaces =
        [
            new(indexes.Text, (db, video) =>
                from e in db.SceneEmbeddings
                where e.Space.StartsWith(SentenceEncoder.Space) && (video == null || e.VideoId == video)
                join v in db.Videos on e.VideoId equals v.Id
                select new VectorRow(v.OwnerId, e.VideoId, e.SceneId, e.Vector)),
            new(indexes.Visual, (db, video) =>
                from f in db.SceneFrames
                where video == null || f.VideoId == video
                join v in db.Videos on f.VideoId equals v.Id
                select new VectorRow(v.OwnerId, f.VideoId, f.SceneId, f.Descriptor)),
            new(indexes.Faces, (db, video) =>
                from f in db.Faces
                where video == null || f.VideoId == video
                join v in db.Videos on f.VideoId equals v.Id
                select new VectorRow(v.OwnerId, f.VideoId, f.SceneId, f.Embedding)),
        ];
    }

    public bool Loaded => _loaded;

    public SearchIndexStatus Status => new(_loaded, Interlocked.Read(ref _vectorsLoaded), Interlocked.Read(ref _vectorsToLoad), _reloads.Pending,
        _indexes.Text.Status, _indexes.Visual.Status, _indexes.Faces.Status);

    public string Progress => $"loading the search indexes: {Interlocked.Read(ref _vectorsLoaded)} of {Interlocked.Read(ref _vectorsToLoad)} vectors";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_loaded ? HealthCheckResult.Healthy() : HealthCheckResult.Degraded(Progress));

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

        var started = TimeProvider.System.GetTimestamp();
        await LoadAllAsync(stoppingToken);
        _loaded = true;
        _logger.LogInformation("Search indexes loaded from {Vectors} vectors in {Elapsed}: {Status}",
            _vectorsLoaded, TimeProvider.System.GetElapsedTime(started), Status);
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
                _vectorsLoaded = 0;
                _vectorsToLoad = 0;
                foreach (var space in _spaces)
                {
                    _vectorsToLoad += await space.Rows(db, null).LongCountAsync(stoppingToken);
                }

                // One streamed read per space, not three queries per video: a million scenes load in seconds, not minutes.
                foreach (var space in _spaces)
                {
                    var videos = await ReadAsync(space.Rows(db, null), () => Interlocked.Increment(ref _vectorsLoaded), stoppingToken);
                    space.Index.ReplaceMany(videos.Select(v => (v.Value.Owner, v.Key, v.Value.Scenes.AsEnumerable())));
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
        var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
        foreach (var space in _spaces)
        {
            // A deleted video, or one without vectors of this space, has no rows: it leaves the index.
            if ((await ReadAsync(space.Rows(db, videoId), () => { }, cancellationToken)).TryGetValue(videoId, out var video))
            {
                space.Index.Replace(video.Owner, videoId, video.Scenes);
            }
            else
            {
                space.Index.Remove(videoId);
            }
        }
    }

    private static async Task<Dictionary<Guid, (Guid Owner, List<(Guid SceneId, float[] Vector)> Scenes)>> ReadAsync(
        IQueryable<VectorRow> rows, Action onRow, CancellationToken cancellationToken)
    {
        var videos = new Dictionary<Guid, (Guid Owner, List<(Guid SceneId, float[] Vector)> Scenes)>();
        await foreach (var row in rows.AsNoTracking().AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            if (!videos.TryGetValue(row.VideoId, out var video))
            {
                videos[row.VideoId] = video = (row.OwnerId, []);
            }

            video.Scenes.Add((row.SceneId, row.Vector));
            onRow();
        }

        return videos;
    }
}
