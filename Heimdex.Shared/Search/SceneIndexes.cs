namespace Heimdex.Shared.Search;

/// <summary>The in-memory vector indexes search uses: scene sentence embeddings, and visual descriptors of sampled frames (several per scene).</summary>
public sealed class SceneIndexes
{
    public SceneVectorIndex Text { get; } = new();

    public SceneVectorIndex Visual { get; } = new();
}
