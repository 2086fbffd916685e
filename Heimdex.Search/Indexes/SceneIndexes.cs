namespace Heimdex.Search.Indexes;

/// <summary>
/// The in-memory vector indexes search uses: scene sentence embeddings, visual descriptors of sampled frames and
/// the embeddings of faces on keyframes (several of the last two per scene).
/// </summary>
public sealed class SceneIndexes
{
    public SceneVectorIndex Text { get; } = new();

    public SceneVectorIndex Visual { get; } = new();

    public SceneVectorIndex Faces { get; } = new();
}
