using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Heimdex.Shared.Data;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Search;
using Heimdex.Shared.Videos;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Heimdex.Search.Indexes;

/// <summary>
/// What the API's vector indexes hold and whether they are complete, for operators and benchmarks: of the vectors
/// loaded at start, how many came from the API's own snapshot rather than from Postgres, and how many times it has
/// saved that snapshot since.
/// </summary>
public sealed record SearchIndexStatus(bool Loaded, long VectorsLoaded, long VectorsToLoad, int PendingReloads,
    VectorIndexStatus Text, VectorIndexStatus Visual, VectorIndexStatus Faces, long VectorsFromSnapshot = 0, int SnapshotsSaved = 0);

/// <summary>
/// Fills the vector indexes from Postgres at start, a read per space and batch of videos, then reloads each video the
/// worker (or a delete) announces, and every <see cref="SearchOptions.ReconcileInterval"/> each video whose row changed
/// since it was loaded, in case its announcement was lost. Until the first load is complete the API reports itself
/// degraded and search answers 503: a search before then would silently miss scenes, while uploads and everything
/// else work. With a <see cref="SearchOptions.SnapshotDirectory"/>, what the indexes hold is saved there (see
/// <see cref="VectorsSnapshot"/>) once loaded, once a fifth of the videos have changed since the last save, at each
/// reconcile when any has, and when the API stops; a restarted API reads from it every video still at the version it was
/// saved at, and from Postgres only the others.
/// </summary>
public sealed class SceneIndexLoader : BackgroundService, IHealthCheck
{
    private sealed record VectorRow(Guid OwnerId, Guid VideoId, Guid SceneId, float[] Vector);

    /// <summary>An index and its rows in Postgres, of every video or of some.</summary>
    private sealed record Space(SceneVectorIndex Index, Func<HeimdexDbContext, Guid[]?, IQueryable<VectorRow>> Rows);

    /// <summary>Videos read per query at start: their floats are in memory only until the index has written them to its file.</summary>
    private const int LoadBatchVideos = 100;

    /// <summary>The vectors each index loads, in order: a snapshot of other spaces is not read.</summary>
    private static readonly string SpacesKey = $"{string.Join(",", SentenceEncoder.Spaces)}|frames|faces";

    private readonly IServiceScopeFactory _scopes;
    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<SceneIndexLoader> _logger;
    private readonly SceneIndexes _indexes;
    private readonly SceneReloadQueue _reloads;
    private readonly Space[] _spaces;
    private readonly TimeSpan _reconcileInterval;
    private readonly string? _snapshotDirectory;
    private readonly Lock _saveLock = new();
    private Task _saving = Task.CompletedTask;

    /// <summary>Videos reloaded (or read from Postgres at start) since the snapshot was last saved.</summary>
    private int _changesSinceSave;
    private int _snapshotsSaved;
    private long _vectorsFromSnapshot;

    /// <summary>Each video's <see cref="Video.UpdatedAt"/> as it was when its vectors were last read.</summary>
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _loadedVersions = new();
    private volatile bool _loaded;
    private long _vectorsLoaded;
    private long _vectorsToLoad;

    public SceneIndexLoader(
        IServiceScopeFactory scopes, SceneIndexes indexes, IConnectionMultiplexer redis, IOptions<SearchOptions> options, ILogger<SceneIndexLoader> logger)
    {
        _reconcileInterval = options.Value.ReconcileInterval;
        _snapshotDirectory = options.Value.SnapshotDirectory;
        _scopes = scopes;
        _indexes = indexes;
        _redis = redis;
        _logger = logger;
        _reloads = new SceneReloadQueue(ReloadAsync, logger, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1));
        _spaces =
        [
            new(indexes.Text, (db, videos) =>
                from e in db.SceneEmbeddings
                where SentenceEncoder.Spaces.Contains(e.Space) && (videos == null || videos.Contains(e.VideoId))
                join v in db.Videos on e.VideoId equals v.Id
                select new VectorRow(v.OwnerId, e.VideoId, e.SceneId, e.Vector)),
            new(indexes.Visual, (db, videos) =>
                from f in db.SceneFrames
                where videos == null || videos.Contains(f.VideoId)
                join v in db.Videos on f.VideoId equals v.Id
                select new VectorRow(v.OwnerId, f.VideoId, f.SceneId, f.Descriptor)),
            new(indexes.Faces, (db, videos) =>
                from f in db.Faces
                where videos == null || videos.Contains(f.VideoId)
                join v in db.Videos on f.VideoId equals v.Id
                select new VectorRow(v.OwnerId, f.VideoId, f.SceneId, f.Embedding)),
        ];
    }

    public bool Loaded => _loaded;

    public SearchIndexStatus Status => new(_loaded, Interlocked.Read(ref _vectorsLoaded), Interlocked.Read(ref _vectorsToLoad), _reloads.Pending,
        _indexes.Text.Status, _indexes.Visual.Status, _indexes.Faces.Status, Interlocked.Read(ref _vectorsFromSnapshot), Volatile.Read(ref _snapshotsSaved));

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
        SaveSnapshotIfDue(everyChange: true);
        await Task.WhenAll(_reloads.RunAsync(stoppingToken), ReconcileAsync(stoppingToken));
    }

    /// <summary>Saves what the indexes hold once more if anything changed since the last save: a restart after a deployment reads nothing from Postgres.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        Task saving;
        lock (_saveLock)
        {
            saving = _saving;
        }

        await saving;
        if (_snapshotDirectory is not null && _loaded && Volatile.Read(ref _changesSinceSave) > 0)
        {
            SaveSnapshot();
        }
    }

    /// <summary>
    /// Starts saving what the indexes hold in the background, unless a save is running: when any video changed since the
    /// last save (<paramref name="everyChange"/>) or a fifth of them did.
    /// </summary>
    private void SaveSnapshotIfDue(bool everyChange)
    {
        var changes = Volatile.Read(ref _changesSinceSave);
        if (_snapshotDirectory is null || changes == 0 || (!everyChange && changes * 5L < _loadedVersions.Count))
        {
            return;
        }

        lock (_saveLock)
        {
            if (_saving.IsCompleted)
            {
                _saving = Task.Run(SaveSnapshot);
            }
        }
    }

    private void SaveSnapshot()
    {
        var changes = Interlocked.Exchange(ref _changesSinceSave, 0);
        // The versions before the vectors: a video reloaded meanwhile is saved newer than its version, and only read again.
        var versions = _loadedVersions.ToDictionary();
        try
        {
            var started = TimeProvider.System.GetTimestamp();
            var vectors = VectorsSnapshot.Save(_snapshotDirectory!, SpacesKey, versions, [.. _spaces.Select(space => space.Index)]);
            Interlocked.Increment(ref _snapshotsSaved);
            _logger.LogInformation("Saved {Vectors} vectors of {Videos} videos to {Directory} in {Elapsed}",
                vectors, versions.Count, _snapshotDirectory, TimeProvider.System.GetElapsedTime(started));
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            Interlocked.Add(ref _changesSinceSave, changes);
            _logger.LogWarning(error, "Saving the search indexes to {Directory} failed; a restart reads the videos changed since the last save from Postgres", _snapshotDirectory);
        }
    }

    private async Task ReconcileAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_reconcileInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = _scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
                var videos = await db.Videos.AsNoTracking().Select(v => new { v.Id, v.State, v.UpdatedAt }).ToListAsync(stoppingToken);
                var existing = videos.Select(v => v.Id).ToHashSet();
                var stale = videos
                    .Where(v => v.State == VideoState.Indexed && (!_loadedVersions.TryGetValue(v.Id, out var loaded) || loaded != v.UpdatedAt))
                    .Select(v => v.Id)
                    .Concat(_loadedVersions.Keys.Where(id => !existing.Contains(id)))
                    .ToList();
                stale.ForEach(_reloads.Enqueue);
                if (stale.Count > 0)
                {
                    _logger.LogInformation("Reloading {Count} videos changed since this API loaded them, e.g. {VideoId}", stale.Count, stale[0]);
                }

                SaveSnapshotIfDue(everyChange: true);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                _logger.LogWarning(error, "Comparing the search indexes with Postgres failed; trying again in {Interval}", _reconcileInterval);
            }
        }
    }

    private async Task LoadAllAsync(CancellationToken stoppingToken)
    {
        for (var failures = 1; ; failures++)
        {
            VectorsSnapshot.Reader? snapshot = null;
            try
            {
                await using var scope = _scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
                // Read before the vectors: a video changed meanwhile looks changed to the reconcile, and is read again.
                var versions = await db.Videos.Where(v => v.State == VideoState.Indexed)
                    .Select(v => new { v.Id, v.UpdatedAt }).ToListAsync(stoppingToken);
                // A snapshot that failed to load once is not read again: Postgres has all it holds.
                snapshot = failures == 1 && _snapshotDirectory is not null ? VectorsSnapshot.TryOpen(_snapshotDirectory, SpacesKey) : null;
                var current = snapshot is null ? [] : versions
                    .Where(v => snapshot.Versions.TryGetValue(v.Id, out var saved) && saved == v.UpdatedAt).Select(v => v.Id).ToHashSet();
                _vectorsLoaded = 0;
                _vectorsFromSnapshot = 0;
                _vectorsToLoad = 0;
                foreach (var space in _spaces)
                {
                    _vectorsToLoad += await space.Rows(db, null).LongCountAsync(stoppingToken);
                }

                // A query per batch of videos, not three per video: a million scenes load in seconds, not minutes.
                var videoIds = (await db.Videos.Select(v => v.Id).ToListAsync(stoppingToken)).Where(id => !current.Contains(id)).ToList();
                foreach (var space in _spaces)
                {
                    await space.Index.ReplaceManyAsync(SavedThenReadAsync(snapshot, current, ReadInBatchesAsync(db, space, videoIds, stoppingToken)), stoppingToken);
                }

                versions.ForEach(v => _loadedVersions[v.Id] = v.UpdatedAt);
                _changesSinceSave = versions.Count - current.Count;
                return;
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                var delay = _reloads.RetryDelay(failures);
                _logger.LogWarning(error, "Loading the search indexes failed ({Failures} times); trying again in {Delay}", failures, delay);
                await Task.Delay(delay, stoppingToken);
            }
            finally
            {
                snapshot?.Dispose();
            }
        }
    }

    /// <summary>The next space's videos of the snapshot that are <paramref name="current"/>, then those read from Postgres.</summary>
    private async IAsyncEnumerable<(Guid OwnerId, Guid VideoId, IEnumerable<(Guid SceneId, float[] Vector)> Scenes)> SavedThenReadAsync(
        VectorsSnapshot.Reader? snapshot, HashSet<Guid> current, IAsyncEnumerable<(Guid OwnerId, Guid VideoId, IEnumerable<(Guid SceneId, float[] Vector)> Scenes)> fromPostgres)
    {
        foreach (var (owner, video, scenes) in snapshot?.Space() ?? [])
        {
            if (current.Contains(video))
            {
                Interlocked.Add(ref _vectorsLoaded, scenes.Length);
                Interlocked.Add(ref _vectorsFromSnapshot, scenes.Length);
                yield return (owner, video, scenes);
            }
        }

        await foreach (var video in fromPostgres)
        {
            yield return video;
        }
    }

    private async Task ReloadAsync(Guid videoId, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
        var version = await db.Videos.Where(v => v.Id == videoId).Select(v => (DateTimeOffset?)v.UpdatedAt).FirstOrDefaultAsync(cancellationToken);
        foreach (var space in _spaces)
        {
            // A deleted video, or one without vectors of this space, has no rows: it leaves the index.
            if ((await ReadAsync(space.Rows(db, [videoId]), () => { }, cancellationToken)).TryGetValue(videoId, out var video))
            {
                space.Index.Replace(video.Owner, videoId, video.Scenes);
            }
            else
            {
                space.Index.Remove(videoId);
            }
        }

        if (version is { } loaded)
        {
            _loadedVersions[videoId] = loaded;
        }
        else
        {
            _loadedVersions.TryRemove(videoId, out _);
        }

        Interlocked.Increment(ref _changesSinceSave);
        SaveSnapshotIfDue(everyChange: false);
    }

    private async IAsyncEnumerable<(Guid OwnerId, Guid VideoId, IEnumerable<(Guid SceneId, float[] Vector)> Scenes)> ReadInBatchesAsync(
        HeimdexDbContext db, Space space, List<Guid> videoIds, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var batch in videoIds.Chunk(LoadBatchVideos))
        {
            foreach (var (videoId, video) in await ReadAsync(space.Rows(db, batch), () => Interlocked.Increment(ref _vectorsLoaded), cancellationToken))
            {
                yield return (video.Owner, videoId, video.Scenes);
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
