using Microsoft.Extensions.Options;

namespace Heimdex.Search.Indexes;

/// <summary>
/// The in-memory vector indexes search uses: scene sentence embeddings, visual descriptors of sampled frames and
/// the embeddings of faces on keyframes (several of the last two per scene), each saving its builds under
/// <see cref="SearchOptions.SnapshotDirectory"/> when one is set.
/// </summary>
public sealed class SceneIndexes(IOptions<SearchOptions> options)
{
    public SceneVectorIndex Text { get; } = new(snapshotDirectory: Snapshots(options, "text"));

    public SceneVectorIndex Visual { get; } = new(snapshotDirectory: Snapshots(options, "visual"));

    public SceneVectorIndex Faces { get; } = new(snapshotDirectory: Snapshots(options, "faces"));

    private static string? Snapshots(IOptions<SearchOptions> options, string space) =>
        options.Value.SnapshotDirectory is { } directory ? Path.Combine(directory, space) : null;
}
