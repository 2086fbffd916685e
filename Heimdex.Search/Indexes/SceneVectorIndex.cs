using System.Numerics.Tensors;

namespace Heimdex.Search.Indexes;

/// <summary>What an index holds now: vectors, owners, owners answered through an IVF build, builds running and builds done since start.</summary>
public sealed record VectorIndexStatus(int Vectors, int Owners, int ApproximateOwners, int BuildsRunning, int BuildsCompleted);

/// <summary>
/// The scene embeddings of one space in memory, grouped by owner so a search only ever scans that user's scenes.
/// Small libraries are scanned exactly (SIMD dot products of unit vectors = cosine); above a threshold an owner's
/// vectors also get an <see cref="IvfIndex"/>, built in the background. Changes apply at once: a video replaced or
/// removed since the build is never answered from it, and vectors newer than the build are scanned exactly until
/// the next build. Postgres stays the source of truth: the index is loaded from it and reloaded per video.
/// </summary>
public sealed class SceneVectorIndex(int approximateAbove = 50_000)
{
    private sealed record Video(Guid Owner, (Guid SceneId, float[] Vector)[] Scenes);

    /// <summary>An IVF build over an owner's vectors; each row remembers the video array it came from.</summary>
    private sealed record Approximate(IvfIndex Index, (Guid SceneId, Guid VideoId, (Guid, float[])[] Source)[] Rows, HashSet<(Guid, float[])[]> Covered);

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Video> _videos = [];
    private readonly Dictionary<Guid, HashSet<Guid>> _videosByOwner = [];
    private readonly Dictionary<Guid, Approximate> _approximate = [];
    private readonly Dictionary<Guid, Task> _building = [];
    private int _buildsCompleted;

    public VectorIndexStatus Status
    {
        get
        {
            lock (_lock)
            {
                return new VectorIndexStatus(_videos.Values.Sum(v => v.Scenes.Length), _videosByOwner.Count(o => o.Value.Count > 0),
                    _approximate.Count, _building.Count, _buildsCompleted);
            }
        }
    }

    public bool IsApproximate(Guid ownerId)
    {
        lock (_lock)
        {
            return _approximate.ContainsKey(ownerId);
        }
    }

    /// <summary>Waits until no build is running (tests and benchmarks).</summary>
    public void WaitForApproximateIndexes()
    {
        while (true)
        {
            Task[] builds;
            lock (_lock)
            {
                builds = [.. _building.Values];
            }

            if (builds.Length == 0)
            {
                return;
            }

            Task.WaitAll(builds);
        }
    }

    public void Replace(Guid ownerId, Guid videoId, IEnumerable<(Guid SceneId, float[] Vector)> scenes) =>
        ReplaceMany([(ownerId, videoId, scenes)]);

    /// <summary>
    /// Replaces many videos at once (the API's start): a large owner's approximate index is built once, when all of
    /// its videos are in, not again at every fifth of growth while they arrive.
    /// </summary>
    public void ReplaceMany(IEnumerable<(Guid OwnerId, Guid VideoId, IEnumerable<(Guid SceneId, float[] Vector)> Scenes)> videos)
    {
        var entries = videos.Select(v => (v.OwnerId, v.VideoId, Scenes: v.Scenes.ToArray())).ToList();
        lock (_lock)
        {
            foreach (var (ownerId, videoId, scenes) in entries)
            {
                RemoveLocked(videoId);
                if (scenes.Length > 0)
                {
                    _videos[videoId] = new Video(ownerId, scenes);
                    if (!_videosByOwner.TryGetValue(ownerId, out var owned))
                    {
                        _videosByOwner[ownerId] = owned = [];
                    }

                    owned.Add(videoId);
                }
            }

            foreach (var ownerId in entries.Select(e => e.OwnerId).Distinct())
            {
                RebuildIfStaleLocked(ownerId);
            }
        }
    }

    public void Remove(Guid videoId)
    {
        lock (_lock)
        {
            RemoveLocked(videoId);
        }
    }

    /// <summary>The owner's <paramref name="count"/> scenes most similar to <paramref name="query"/>, best first.</summary>
    public IReadOnlyList<(Guid SceneId, float Similarity)> Search(Guid ownerId, float[] query, int count, Guid? videoId = null)
    {
        List<(Guid SceneId, float[] Vector)[]> exact;
        Approximate? approximate;
        Dictionary<Guid, (Guid, float[])[]> current;
        lock (_lock)
        {
            var videos = _videosByOwner.TryGetValue(ownerId, out var owned) ? owned.Where(v => videoId is null || v == videoId).ToList() : [];
            current = videos.ToDictionary(v => v, v => _videos[v].Scenes);
            approximate = videoId is null ? _approximate.GetValueOrDefault(ownerId) : null;
            exact = [.. current.Values.Where(scenes => approximate is null || !approximate.Covered.Contains(scenes))];
        }

        // Arrays are replaced, never mutated, so scanning outside the lock is safe.
        var best = new PriorityQueue<Guid, float>(count + 1);
        void Offer(Guid sceneId, float similarity)
        {
            if (best.Count < count)
            {
                best.Enqueue(sceneId, similarity);
            }
            else if (best.TryPeek(out _, out var worst) && similarity > worst)
            {
                best.EnqueueDequeue(sceneId, similarity);
            }
        }

        foreach (var scenes in exact)
        {
            foreach (var (sceneId, vector) in scenes)
            {
                Offer(sceneId, TensorPrimitives.Dot(query, vector));
            }
        }

        if (approximate is not null)
        {
            foreach (var (row, similarity) in approximate.Index.Search(query, count, approximate.Index.DefaultProbes))
            {
                var (sceneId, video, source) = approximate.Rows[row];
                if (current.TryGetValue(video, out var now) && ReferenceEquals(now, source))
                {
                    Offer(sceneId, similarity);
                }
            }
        }

        var results = new List<(Guid SceneId, float Similarity)>(best.Count);
        while (best.TryDequeue(out var sceneId, out var similarity))
        {
            results.Add((sceneId, similarity));
        }

        results.Reverse();
        return results;
    }

    private void RemoveLocked(Guid videoId)
    {
        if (_videos.Remove(videoId, out var removed) && _videosByOwner.TryGetValue(removed.Owner, out var videos))
        {
            videos.Remove(videoId);
        }
    }

    /// <summary>Starts a background build when the owner is large and a fifth or more of their vectors are not in the last build.</summary>
    private void RebuildIfStaleLocked(Guid ownerId)
    {
        if (!_videosByOwner.TryGetValue(ownerId, out var videos) || _building.ContainsKey(ownerId))
        {
            return;
        }

        var arrays = videos.Select(v => (Video: v, _videos[v].Scenes)).ToList();
        var total = arrays.Sum(a => a.Scenes.Length);
        var covered = _approximate.GetValueOrDefault(ownerId)?.Covered;
        var uncovered = arrays.Where(a => covered is null || !covered.Contains(a.Scenes)).Sum(a => a.Scenes.Length);
        if (total < approximateAbove || uncovered * 5 < total)
        {
            return;
        }

        _building[ownerId] = Task.Run(() =>
        {
            var rows = arrays.SelectMany(a => a.Scenes.Select(s => (Row: (s.SceneId, a.Video, a.Scenes), s.Vector))).ToArray();
            var built = new Approximate(IvfIndex.Build([.. rows.Select(r => r.Vector)]), [.. rows.Select(r => r.Row)], [.. arrays.Select(a => a.Scenes)]);
            lock (_lock)
            {
                _approximate[ownerId] = built;
                _building.Remove(ownerId);
                _buildsCompleted++;
                RebuildIfStaleLocked(ownerId);
            }
        });
    }
}
