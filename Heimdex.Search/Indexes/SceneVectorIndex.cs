using System.Numerics.Tensors;
using Cloud.Unum.USearch;

namespace Heimdex.Search.Indexes;

/// <summary>
/// What an index holds now: vectors, owners, owners answered through an HNSW build, builds running, builds done and
/// builds read from snapshots since start, why the last build could not be built or saved, if one could not, and
/// the native memory of the HNSW builds (their graphs and 8-bit vectors; the float vectors are counted apart).
/// </summary>
public sealed record VectorIndexStatus(
    int Vectors, int Owners, int ApproximateOwners, int BuildsRunning, int BuildsCompleted, int SnapshotsLoaded = 0, string? Problem = null, long GraphBytes = 0);

/// <summary>
/// Which of an owner's scenes a search may return: those of <see cref="Videos"/> (all videos without it) that are
/// in <see cref="Scenes"/> (all their scenes without it).
/// </summary>
public sealed record SceneFilter(IReadOnlySet<Guid>? Videos = null, IReadOnlySet<Guid>? Scenes = null)
{
    public bool Allows(Guid sceneId, Guid videoId) => (Videos is null || Videos.Contains(videoId)) && (Scenes is null || Scenes.Contains(sceneId));
}

/// <summary>
/// The scene embeddings of one space in memory, grouped by owner so a search only ever scans that user's scenes.
/// Small libraries are scanned exactly (SIMD dot products of unit vectors = cosine); above a threshold an owner's
/// vectors also get an <see cref="HnswIndex"/>, built in the background, whose candidates are re-ranked by their exact
/// cosine. Changes apply at once: a video replaced or removed since the build is never answered from it, and vectors
/// newer than the build are scanned exactly until the next build. Postgres stays the source of truth: the index is
/// loaded from it and reloaded per video. With a <paramref name="snapshotDirectory"/> each build is saved there, and
/// after a restart an owner's saved build is read instead of built again: what changed since is answered exactly.
/// A <see cref="SceneFilter"/> applies inside the search: when it allows fewer than <see cref="ExactFilteredBelow"/>
/// vectors they are scanned exactly, otherwise the HNSW walk itself skips the rows it rejects.
/// </summary>
public sealed class SceneVectorIndex(int approximateAbove = 50_000, string? snapshotDirectory = null, int exactFilteredBelow = SceneVectorIndex.ExactFilteredBelow)
{
    private sealed record Video(Guid Owner, (Guid SceneId, float[] Vector)[] Scenes);

    /// <summary>
    /// At least this many candidates are drawn from an HNSW build and re-ranked exactly: recall@10 against the exact
    /// scan stays at or above 0.95 where the graph's own top 10 of quantised vectors would miss some.
    /// </summary>
    private const int MinApproximateCandidates = 100;

    /// <summary>Filtered to fewer vectors than this, a search scans them exactly: cheaper than a graph walk that rejects most rows.</summary>
    public const int ExactFilteredBelow = 20_000;

    /// <summary>
    /// An HNSW build over an owner's vectors; each row remembers its vector and the video array it came from (none for
    /// a row of a snapshot whose video changed since).
    /// </summary>
    private sealed record Approximate(HnswIndex Index, Row[] Rows, HashSet<(Guid, float[])[]> Covered);

    private readonly record struct Row(Guid SceneId, Guid VideoId, (Guid SceneId, float[] Vector)[]? Source, float[] Vector);

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Video> _videos = [];
    private readonly Dictionary<Guid, HashSet<Guid>> _videosByOwner = [];
    private readonly Dictionary<Guid, Approximate> _approximate = [];
    private readonly Dictionary<Guid, Task> _building = [];
    private readonly HashSet<Guid> _snapshotsTried = [];
    private int _buildsCompleted;
    private int _snapshotsLoaded;
    private string? _problem;

    public VectorIndexStatus Status
    {
        get
        {
            lock (_lock)
            {
                return new VectorIndexStatus(_videos.Values.Sum(v => v.Scenes.Length), _videosByOwner.Count(o => o.Value.Count > 0),
                    _approximate.Count, _building.Count, _buildsCompleted, _snapshotsLoaded, _problem, _approximate.Values.Sum(a => a.Index.MemoryBytes));
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

    /// <summary>The owner's <paramref name="count"/> scenes most similar to <paramref name="query"/> that <paramref name="filter"/> allows, best first.</summary>
    public IReadOnlyList<(Guid SceneId, float Similarity)> Search(Guid ownerId, float[] query, int count, SceneFilter? filter = null)
    {
        List<(Guid VideoId, (Guid SceneId, float[] Vector)[] Scenes)> exact;
        Approximate? approximate;
        Dictionary<Guid, (Guid, float[])[]> current;
        lock (_lock)
        {
            var videos = _videosByOwner.TryGetValue(ownerId, out var owned)
                ? owned.Where(v => filter?.Videos is not { } allowed || allowed.Contains(v)).ToList()
                : [];
            current = videos.ToDictionary(v => v, v => _videos[v].Scenes);
            // The vectors a filtered search would take the cosine of, were it to scan exactly.
            var allowed = Math.Min(filter?.Videos is null ? int.MaxValue : current.Values.Sum(scenes => scenes.Length), filter?.Scenes?.Count ?? int.MaxValue);
            approximate = allowed >= exactFilteredBelow ? _approximate.GetValueOrDefault(ownerId) : null;
            approximate?.Index.Acquire();
            exact = [.. current.Where(video => approximate is null || !approximate.Covered.Contains(video.Value)).Select(video => (video.Key, video.Value))];
        }

        try
        {
            return Nearest(query, count, filter, exact, approximate, current);
        }
        finally
        {
            approximate?.Index.Release();
        }
    }

    /// <summary>
    /// The best of the exactly scanned arrays and of the build's candidates that still come from the videos held now,
    /// by exact cosine, of the scenes the filter allows. Arrays are replaced, never mutated, so this runs outside the lock.
    /// </summary>
    private static List<(Guid SceneId, float Similarity)> Nearest(float[] query, int count, SceneFilter? filter,
        List<(Guid VideoId, (Guid SceneId, float[] Vector)[] Scenes)> exact, Approximate? approximate, Dictionary<Guid, (Guid, float[])[]> current)
    {
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

        foreach (var (videoId, scenes) in exact)
        {
            foreach (var (sceneId, vector) in scenes)
            {
                if (filter is null || filter.Allows(sceneId, videoId))
                {
                    Offer(sceneId, TensorPrimitives.Dot(query, vector));
                }
            }
        }

        if (approximate is not null)
        {
            // A row without a source (its video changed since the snapshot) is never the array held now; neither it
            // nor a row the filter rejects takes a candidate's place.
            bool Answers(int row)
            {
                var (sceneId, video, source, _) = approximate.Rows[row];
                return current.TryGetValue(video, out var now) && ReferenceEquals(now, source) && (filter is null || filter.Allows(sceneId, video));
            }

            var candidates = Math.Max(count, MinApproximateCandidates);
            var found = filter is null ? approximate.Index.Search(query, candidates) : approximate.Index.Search(query, candidates, Answers);
            foreach (var (row, _) in found)
            {
                if (filter is not null || Answers(row))
                {
                    Offer(approximate.Rows[row].SceneId, TensorPrimitives.Dot(query, approximate.Rows[row].Vector));
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

        // After a restart an owner's first build is read from its snapshot, if it has a usable one.
        var restore = snapshotDirectory is not null && !_approximate.ContainsKey(ownerId) && _snapshotsTried.Add(ownerId);
        _building[ownerId] = Task.Run(() =>
        {
            Approximate? built = null;
            string? problem = null;
            var restored = false;
            try
            {
                restored = restore && (built = Restore(ownerId, arrays)) is not null;
                built ??= Build(ownerId, arrays, out problem);
            }
            catch (Exception error)
            {
                // The owner's searches stay exact (slower, never wrong); the next change tries again.
                problem = $"building the HNSW index of owner {ownerId} failed: {error.Message}";
            }

            lock (_lock)
            {
                _building.Remove(ownerId);
                _problem = problem ?? _problem;
                if (built is null)
                {
                    return;
                }

                _approximate.GetValueOrDefault(ownerId)?.Index.Dispose();
                _approximate[ownerId] = built;
                if (restored)
                {
                    _snapshotsLoaded++;
                }
                else
                {
                    _buildsCompleted++;
                }

                RebuildIfStaleLocked(ownerId);
            }
        });
    }

    /// <summary>A new build over the owner's vectors, saved as its snapshot (a save that fails is a problem, not a failed build).</summary>
    private Approximate Build(Guid ownerId, List<(Guid Video, (Guid SceneId, float[] Vector)[] Scenes)> arrays, out string? problem)
    {
        problem = null;
        var rows = arrays.SelectMany(a => a.Scenes.Select(s => new Row(s.SceneId, a.Video, a.Scenes, s.Vector))).ToArray();
        var built = new Approximate(HnswIndex.Build([.. rows.Select(r => r.Vector)]), rows, [.. arrays.Select(a => a.Scenes)]);
        if (snapshotDirectory is not null)
        {
            try
            {
                IndexSnapshot.Save(snapshotDirectory, ownerId, built.Index, [.. rows.Select(r => new SnapshotRow(r.SceneId, r.VideoId, SnapshotRow.Hash(r.Vector)))]);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or USearchException)
            {
                problem = $"saving the HNSW index of owner {ownerId} to {snapshotDirectory} failed: {error.Message}";
            }
        }

        return built;
    }

    /// <summary>
    /// The owner's saved build over the vectors held now: a row whose video or vector changed since it was saved is
    /// never answered from, and a video counts as covered (not scanned exactly) only if every vector it has now is a row.
    /// </summary>
    private Approximate? Restore(Guid ownerId, List<(Guid Video, (Guid SceneId, float[] Vector)[] Scenes)> arrays)
    {
        if (IndexSnapshot.TryLoad(snapshotDirectory!, ownerId) is not { } snapshot)
        {
            return null;
        }

        var (index, saved) = snapshot;
        try
        {
            return Reattach(index, saved, arrays);
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>A saved build's rows matched to the arrays held now by scene and vector hash.</summary>
    private static Approximate Reattach(HnswIndex index, SnapshotRow[] saved, List<(Guid Video, (Guid SceneId, float[] Vector)[] Scenes)> arrays)
    {
        var current = arrays.ToDictionary(a => a.Video, a => a.Scenes);
        var byContent = new Dictionary<Guid, Dictionary<(Guid SceneId, ulong Hash), float[]>>();
        var rows = saved.Select(row =>
        {
            if (!current.TryGetValue(row.VideoId, out var scenes))
            {
                return new Row(row.SceneId, row.VideoId, null, []);
            }

            if (!byContent.TryGetValue(row.VideoId, out var vectors))
            {
                byContent[row.VideoId] = vectors = scenes.GroupBy(s => (s.SceneId, SnapshotRow.Hash(s.Vector))).ToDictionary(g => g.Key, g => g.First().Vector);
            }

            return vectors.TryGetValue((row.SceneId, row.VectorHash), out var vector) ? new Row(row.SceneId, row.VideoId, scenes, vector) : new Row(row.SceneId, row.VideoId, null, []);
        }).ToArray();
        var currentRows = rows.Where(r => r.Source is not null).CountBy(r => r.VideoId).ToDictionary();
        var covered = arrays.Where(a => currentRows.GetValueOrDefault(a.Video) == a.Scenes.Length).Select(a => a.Scenes).ToHashSet();
        // A video with some rows current and some not is scanned exactly, so none of its rows answers twice.
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i].Source is { } source && !covered.Contains(source))
            {
                rows[i] = rows[i] with { Source = null };
            }
        }

        return new Approximate(index, rows, covered);
    }
}
