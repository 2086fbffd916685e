using System.Numerics.Tensors;
using Heimdex.Search.Indexes;

namespace Heimdex.Tests.Search;

public sealed class IvfIndexTests
{
    [Fact]
    public void Recall_at_10_against_the_exact_scan_is_at_least_0_95()
    {
        var vectors = SyntheticEmbeddings.Generate(20_000, 384, topics: 300, spread: 1.0f, seed: 1);
        // Queries drawn like the data but not from it: new scenes of the same topics.
        var queries = SyntheticEmbeddings.Generate(100, 384, topics: 300, spread: 1.0f, seed: 1, skip: 20_000);
        var index = IvfIndex.Build(vectors);

        var recall = queries.Average(query =>
        {
            var exact = vectors.Select((v, row) => (Row: row, Similarity: TensorPrimitives.Dot(query, v)))
                .OrderByDescending(h => h.Similarity).Take(10).Select(h => h.Row).ToHashSet();
            return index.Search(query, 10, index.DefaultProbes).Count(hit => exact.Contains(hit.Row)) / 10.0;
        });

        Assert.True(recall >= 0.95, $"recall@10 {recall:0.000} with {index.DefaultProbes} of {index.ListCount} lists");
    }

    [Fact]
    public void Above_its_threshold_the_scene_index_answers_approximately_and_stays_current()
    {
        var owner = Guid.NewGuid();
        var vectors = SyntheticEmbeddings.Generate(3_000, 64, topics: 50, spread: 1.0f, seed: 3);
        var index = new SceneVectorIndex(approximateAbove: 1_000);
        var videos = vectors.Chunk(100).Select(chunk => (Video: Guid.NewGuid(), Scenes: chunk.Select(v => (SceneId: Guid.NewGuid(), Vector: v)).ToArray())).ToList();
        foreach (var (video, scenes) in videos)
        {
            index.Replace(owner, video, scenes);
        }

        index.WaitForApproximateIndexes();
        Assert.True(index.IsApproximate(owner));
        var target = videos[5].Scenes[7];
        Assert.Equal(target.SceneId, index.Search(owner, target.Vector, 10)[0].SceneId);

        // Replaced and removed videos are never answered from the old index; new ones are found at once.
        index.Remove(videos[5].Video);
        Assert.DoesNotContain(index.Search(owner, target.Vector, 10), hit => hit.SceneId == target.SceneId);
        var added = (SceneId: Guid.NewGuid(), Vector: target.Vector);
        index.Replace(owner, Guid.NewGuid(), [added]);
        Assert.Equal(added.SceneId, index.Search(owner, target.Vector, 10)[0].SceneId);
        Assert.Empty(index.Search(Guid.NewGuid(), target.Vector, 10)); // another owner sees nothing
    }

    [Fact]
    public void A_library_loaded_at_once_gets_one_approximate_build_however_many_videos_it_has()
    {
        var owner = Guid.NewGuid();
        var vectors = SyntheticEmbeddings.Generate(5_000, 64, topics: 50, spread: 1.0f, seed: 4);
        var videos = vectors.Chunk(100).Select(chunk => (owner, Guid.NewGuid(), chunk.Select(v => (SceneId: Guid.NewGuid(), Vector: v)))).ToList();
        var loadedAtOnce = new SceneVectorIndex(approximateAbove: 1_000);
        var loadedOneByOne = new SceneVectorIndex(approximateAbove: 1_000);

        loadedAtOnce.ReplaceMany(videos);
        foreach (var (_, video, scenes) in videos)
        {
            loadedOneByOne.Replace(owner, video, scenes);
        }

        loadedAtOnce.WaitForApproximateIndexes();
        loadedOneByOne.WaitForApproximateIndexes();
        Assert.Equal(new VectorIndexStatus(5_000, 1, 1, 0, 1), loadedAtOnce.Status);
        Assert.True(loadedOneByOne.Status.BuildsCompleted > 1); // the cost the bulk load avoids: a build at each fifth of growth
    }
}
