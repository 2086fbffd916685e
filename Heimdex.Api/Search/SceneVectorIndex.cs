using System.Numerics.Tensors;

namespace Heimdex.Api.Search;

/// <summary>
/// The scene embeddings of one space in memory, grouped by owner so a search only ever scans that user's scenes.
/// Search is an exact SIMD scan (dot products of unit vectors = cosine). Postgres stays the source of truth: the
/// index is loaded from it at start and a video is reloaded whenever its scenes change.
/// </summary>
public sealed class SceneVectorIndex
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, (Guid Owner, (Guid SceneId, float[] Vector)[] Scenes)> _videos = [];
    private readonly Dictionary<Guid, HashSet<Guid>> _videosByOwner = [];

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _videos.Values.Sum(v => v.Scenes.Length);
            }
        }
    }

    public void Replace(Guid ownerId, Guid videoId, IEnumerable<(Guid SceneId, float[] Vector)> scenes)
    {
        var entries = scenes.ToArray();
        lock (_lock)
        {
            RemoveLocked(videoId);
            if (entries.Length == 0)
            {
                return;
            }

            _videos[videoId] = (ownerId, entries);
            if (!_videosByOwner.TryGetValue(ownerId, out var videos))
            {
                _videosByOwner[ownerId] = videos = [];
            }

            videos.Add(videoId);
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
        List<(Guid SceneId, float[] Vector)[]> candidates;
        lock (_lock)
        {
            candidates = !_videosByOwner.TryGetValue(ownerId, out var videos)
                ? []
                : [.. videos.Where(v => videoId is null || v == videoId).Select(v => _videos[v].Scenes)];
        }

        // Entries are replaced, never mutated, so scanning outside the lock is safe.
        var best = new PriorityQueue<Guid, float>(count + 1);
        foreach (var scenes in candidates)
        {
            foreach (var (sceneId, vector) in scenes)
            {
                var similarity = TensorPrimitives.Dot(query, vector);
                if (best.Count < count)
                {
                    best.Enqueue(sceneId, similarity);
                }
                else if (best.TryPeek(out _, out var worst) && similarity > worst)
                {
                    best.EnqueueDequeue(sceneId, similarity);
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
}
