using Heimdex.Search;

namespace Heimdex.Tests.Search;

public sealed class RankFusionTests
{
    [Fact]
    public void A_scene_scores_the_sum_of_its_reciprocal_ranks_and_ties_fall_to_the_scene_id()
    {
        Guid[] ids = [.. Enumerable.Range(1, 4).Select(i => Guid.Parse($"00000000-0000-0000-0000-00000000000{i}"))];
        List<Ranked> words = [new(ids[2], 3.0), new(ids[0], 2.0)];
        List<Ranked> meaning = [new(ids[0], 0.9), new(ids[2], 0.8), new(ids[1], 0.7), new(ids[0], 0.1)];
        List<Ranked> spellings = [new(ids[3], 1.0)];

        var fused = RankFusion.Fuse(words, spellings, meaning);

        static double Rank(int r) => 1.0 / (RankFusion.K + r);
        Assert.Equal([ids[0], ids[2], ids[3], ids[1]], fused.Select(hit => hit.SceneId));
        Assert.Equal(Rank(2) + Rank(1), fused[0].Total, 12);
        Assert.Equal([Rank(2), null, Rank(1)], fused[0].Parts);
        Assert.Equal(Rank(1) + Rank(2), fused[1].Total, 12); // the same total as ids[0]: the lower id comes first
        Assert.Equal([null, Rank(1), null], fused[2].Parts);
    }

    [Fact]
    public void Image_hits_rank_a_scene_by_its_most_alike_frame_at_or_above_the_threshold()
    {
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var ranked = RankFusion.BestPerScene([(a, 0.86f), (b, 0.95f), (a, 0.97f), (c, 0.84f)], threshold: 0.85);
        Assert.Equal([new Ranked(a, 0.97f), new Ranked(b, 0.95f)], ranked);
    }
}
