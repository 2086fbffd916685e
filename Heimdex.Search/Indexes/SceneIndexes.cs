using Microsoft.Extensions.Options;

namespace Heimdex.Search.Indexes;

/// <summary>
/// The vector indexes search uses: scene sentence embeddings, visual descriptors of sampled frames and the embeddings
/// of faces on keyframes (several of the last two per scene), each saving its builds under
/// <see cref="SearchOptions.SnapshotDirectory"/> when one is set and keeping its float vectors in a file under
/// <see cref="SearchOptions.VectorDirectory"/>. Sentence embeddings, by far the most numerous, are held in their
/// graphs as quartile bits; the short visual descriptors and the face embeddings, whose searches want near-duplicates, at 8 bits.
/// </summary>
public sealed class SceneIndexes(IOptions<SearchOptions> options) : IDisposable
{
    public SceneVectorIndex Text { get; } = new(snapshotDirectory: Snapshots(options, "text"), graphVectors: GraphVectors.QuartileBits, vectorDirectory: options.Value.VectorDirectory);

    public SceneVectorIndex Visual { get; } = new(snapshotDirectory: Snapshots(options, "visual"), vectorDirectory: options.Value.VectorDirectory);

    public SceneVectorIndex Faces { get; } = new(snapshotDirectory: Snapshots(options, "faces"), vectorDirectory: options.Value.VectorDirectory);

    private static string? Snapshots(IOptions<SearchOptions> options, string space) =>
        options.Value.SnapshotDirectory is { } directory ? Path.Combine(directory, space) : null;

    public void Dispose()
    {
        Text.Dispose();
        Visual.Dispose();
        Faces.Dispose();
    }
}
