namespace Heimdex.Search;

/// <summary>A scene found by one ranking, with what it was ranked by (a text rank, a similarity).</summary>
public sealed record Ranked(Guid SceneId, double Value);

/// <summary>
/// Reciprocal rank fusion: each ranking adds 1 / (K + rank) for the scenes it found (its part, null where it did not
/// find the scene); ties are broken by scene id, so pages are stable.
/// </summary>
public static class RankFusion
{
    /// <summary>A hit at rank r adds 1 / (K + r).</summary>
    public const int K = 60;

    public static List<(Guid SceneId, double Total, double?[] Parts)> Fuse(params IReadOnlyList<Ranked>[] rankings)
    {
        var contributions = rankings.Select(ranking => ranking.Select((hit, rank) => (hit.SceneId, Part: 1.0 / (K + rank + 1)))
            .GroupBy(hit => hit.SceneId).ToDictionary(scene => scene.Key, scene => scene.Max(hit => hit.Part))).ToList();
        return [.. contributions.SelectMany(parts => parts.Keys).Distinct()
            .Select(id =>
            {
                var parts = contributions.Select(part => part.TryGetValue(id, out var value) ? value : (double?)null).ToArray();
                return (SceneId: id, Total: parts.Sum(part => part ?? 0), Parts: parts);
            })
            .OrderByDescending(hit => hit.Total).ThenBy(hit => hit.SceneId)];
    }

    /// <summary>Several frames or faces per scene: a scene ranks by its most alike one, at or above <paramref name="threshold"/>.</summary>
    public static List<Ranked> BestPerScene(IEnumerable<(Guid SceneId, float Similarity)> hits, double threshold) =>
        [.. hits.Where(hit => hit.Similarity >= threshold)
            .GroupBy(hit => hit.SceneId).Select(scene => new Ranked(scene.Key, scene.Max(hit => hit.Similarity)))
            .OrderByDescending(scene => scene.Value).ThenBy(scene => scene.SceneId)];
}
