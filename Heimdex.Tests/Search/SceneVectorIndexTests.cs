using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Heimdex.Search.Indexes;

namespace Heimdex.Tests.Search;

public sealed class SceneVectorIndexTests
{
    /// <summary>
    /// Recall holds through a graph of either kind, and through the same graph read back from its snapshot after a
    /// restart. The vectors share a common direction, as sentence embeddings do, which quartile bits must not be taken of.
    /// </summary>
    [Theory]
    [InlineData(GraphVectors.Int8)]
    [InlineData(GraphVectors.QuartileBits)]
    public void Through_its_HNSW_build_recall_at_10_against_the_exact_scan_is_at_least_0_95_with_exact_similarities(GraphVectors graphVectors)
    {
        var owner = Guid.NewGuid();
        var vectors = SharingADirection(SyntheticEmbeddings.Generate(20_100, 384, topics: 300, spread: 1.0f, seed: 1));
        // Queries drawn like the data but not from it: new scenes of the same topics.
        var queries = vectors[20_000..];
        var scenes = vectors[..20_000].Select(vector => (SceneId: Guid.NewGuid(), Vector: vector)).ToArray();
        var videos = scenes.Chunk(100).Select(chunk => (owner, Guid.NewGuid(), chunk.AsEnumerable())).ToList();
        var snapshots = Directory.CreateTempSubdirectory("heimdex-snapshots-").FullName;
        try
        {
            using var index = new SceneVectorIndex(approximateAbove: 1_000, snapshotDirectory: snapshots, graphVectors: graphVectors);
            index.ReplaceMany(videos);
            index.WaitForBackgroundWork();
            Assert.True(index.IsApproximate(owner));
            // As USearch writes it out: at least each vector's 384 bytes at 8 bits (or 144 as quartile bits), plus the graph's links.
            Assert.InRange(index.Status.GraphBytes / (double)scenes.Length, (graphVectors == GraphVectors.Int8 ? 384 : 144) + 16 * 4, 4096);
            AssertRecall(index);

            using var restarted = new SceneVectorIndex(approximateAbove: 1_000, snapshotDirectory: snapshots, graphVectors: graphVectors);
            restarted.ReplaceMany(videos);
            restarted.WaitForBackgroundWork();
            Assert.Equal((0, 1), (restarted.Status.BuildsCompleted, restarted.Status.SnapshotsLoaded));
            AssertRecall(restarted);
        }
        finally
        {
            Directory.Delete(snapshots, recursive: true);
        }

        void AssertRecall(SceneVectorIndex index)
        {
            var recall = queries.Average(query =>
            {
                var exact = scenes.Select(scene => (scene.SceneId, Similarity: TensorPrimitives.Dot(query, scene.Vector)))
                    .OrderByDescending(h => h.Similarity).Take(10).ToList();
                var found = index.Search(owner, query, 10);
                // The graph's candidates are re-ranked exactly: a scene found has its float cosine, not its quantised one.
                var similarities = exact.ToDictionary(h => h.SceneId, h => h.Similarity);
                Assert.All(found.Where(hit => similarities.ContainsKey(hit.SceneId)), hit => Assert.Equal(similarities[hit.SceneId], hit.Similarity));
                return found.Count(hit => similarities.ContainsKey(hit.SceneId)) / 10.0;
            });

            Assert.True(recall >= 0.95, $"recall@10 {recall:0.000}");
        }
    }

    /// <summary>
    /// Quartile bits say where each component lies in its spread over the graph's vectors: of vectors that share a
    /// direction, signs would say much the same of each (here the graph's 300 nearest would hold 0.75 of the true 10
    /// nearest), and even the signs of the vectors less their mean, one bit a component, lose many (0.89; quartile
    /// bits 0.98). Checked on the graph alone, before any re-ranking, and on the graph read back from its snapshot.
    /// </summary>
    [Fact]
    public void A_quartile_bit_graph_finds_the_nearest_of_vectors_that_share_a_direction()
    {
        var vectors = SharingADirection(SyntheticEmbeddings.Generate(20_100, 384, topics: 20, spread: 2.0f, seed: 2));
        var (library, queries) = (vectors[..20_000], vectors[20_000..]);
        using var built = HnswIndex.Build(384, library.Length, () => library, GraphVectors.QuartileBits);
        double Recall(HnswIndex index) => queries.Average(query =>
        {
            var exact = Enumerable.Range(0, library.Length).OrderByDescending(row => TensorPrimitives.Dot(query, library[row])).Take(10).ToHashSet();
            return index.Search(query, 300).Count(exact.Contains) / 10.0;
        });

        Assert.True(Recall(built) >= 0.95, $"recall@10 of the graph's 300 nearest {Recall(built):0.000}");
        var directory = Directory.CreateTempSubdirectory("heimdex-snapshots-").FullName;
        try
        {
            IndexSnapshot.Save(directory, Guid.Empty, built, [.. library.Select(_ => new SnapshotRow(Guid.NewGuid(), Guid.NewGuid(), 0))]);
            using var loaded = IndexSnapshot.TryLoad(directory, Guid.Empty)!.Value.Index;
            Assert.Equal(built.Quartiles, loaded.Quartiles);
            Assert.True(Recall(loaded) >= 0.95, $"recall@10 of the loaded graph's 300 nearest {Recall(loaded):0.000}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The vectors moved towards one direction and made unit length again: 0.7 of each is then that direction.</summary>
    private static float[][] SharingADirection(float[][] vectors)
    {
        var common = SyntheticEmbeddings.Generate(1, vectors[0].Length, topics: 1, spread: 0, seed: 99)[0];
        foreach (var vector in vectors)
        {
            TensorPrimitives.Add(vector, common, vector);
            TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        }

        return vectors;
    }

    /// <summary>
    /// Sentence embeddings (384 floats, 1.5 KB) take at most half a kilobyte of memory each, whether an owner's graph
    /// holds them as quartile bits or a small library is scanned at 8 bits: the floats themselves are on disk, not held.
    /// </summary>
    [Fact]
    public void A_sentence_embedding_takes_at_most_half_a_kilobyte_of_memory_its_floats_are_on_disk()
    {
        var (large, small) = (Guid.NewGuid(), Guid.NewGuid());
        using var index = new SceneVectorIndex(approximateAbove: 5_000, graphVectors: GraphVectors.QuartileBits);
        var floats = new List<WeakReference<float[]>>();
        void Load(Guid owner, int count, int seed)
        {
            var vectors = SyntheticEmbeddings.Generate(count, 384, topics: 100, spread: 1.0f, seed: seed);
            floats.AddRange(vectors.Select(v => new WeakReference<float[]>(v)));
            index.ReplaceMany(vectors.Chunk(100).Select(chunk => (owner, Guid.NewGuid(), chunk.Select(v => (Guid.NewGuid(), v)))));
        }

        Load(large, 20_000, seed: 7);
        Load(small, 2_000, seed: 8);
        index.WaitForBackgroundWork();
        Assert.True(index.IsApproximate(large));
        Assert.False(index.IsApproximate(small));

        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.DoesNotContain(floats, reference => reference.TryGetTarget(out _));
        var status = index.Status;
        Assert.Equal(22_000L * 384 * sizeof(float), status.FileBytes);
        var perVector = (status.GraphBytes + status.HeldBytes) / (double)status.Vectors;
        Assert.True(perVector <= 512, $"{perVector:0} bytes per vector: {status}");
    }

    /// <summary>
    /// Videos read as they come (the API's start) are written to the index's file one by one: while the rest arrive,
    /// the floats of those before are not held, at most those of the video just handed over.
    /// </summary>
    [Fact]
    public async Task Videos_loaded_as_they_come_are_not_held_as_floats_while_the_rest_arrive()
    {
        using var index = new SceneVectorIndex(approximateAbove: 1_000);
        var owner = Guid.NewGuid();
        var handedOver = new List<WeakReference<float[]>>();
        var first = (SceneId: Guid.NewGuid(), Vector: Array.Empty<float>());
        var stillHeld = -1;
        (Guid, Guid, IEnumerable<(Guid, float[])>) Video(int seed)
        {
            var scenes = SyntheticEmbeddings.Generate(100, 64, topics: 10, spread: 1.0f, seed: seed).Select(v => (Guid.NewGuid(), v)).ToArray();
            handedOver.AddRange(scenes.Select(s => new WeakReference<float[]>(s.v)));
            first = seed == 0 ? (scenes[0].Item1, [.. scenes[0].v]) : first;
            return (owner, Guid.NewGuid(), scenes);
        }

        async IAsyncEnumerable<(Guid, Guid, IEnumerable<(Guid, float[])>)> Read()
        {
            for (var seed = 0; seed < 20; seed++)
            {
                await Task.Yield();
                yield return Video(seed);
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            stillHeld = handedOver.Count(reference => reference.TryGetTarget(out _));
        }

        await index.ReplaceManyAsync(Read(), TestContext.Current.CancellationToken);

        Assert.InRange(stillHeld, 0, 100);
        Assert.Equal(2_000, index.Status.Vectors);
        var found = index.Search(owner, first.Vector, 1).Single();
        Assert.Equal((first.SceneId, TensorPrimitives.Dot(first.Vector, first.Vector)), (found.SceneId, found.Similarity));
    }

    /// <summary>
    /// A filter (videos, and a person's scenes within them) applies inside the search, on the HNSW walk or by an exact
    /// scan of what it allows: its nearest scenes are found however few it allows, not the few of the unfiltered
    /// nearest that pass it.
    /// </summary>
    [Theory]
    [InlineData(300, 1, 0)] // 30k of 40k vectors: the graph walk skips the rest
    [InlineData(40, 10, 0)] // a tenth of 40 videos' scenes, 1 % of all: the graph walk, its filter rejecting 99 % of rows
    [InlineData(400, 50, SceneVectorIndex.FilteredScanFactor)] // one scene in 50 of every video: 800 vectors, scanned exactly
    public void A_filter_applies_inside_the_search_so_recall_holds_however_few_scenes_it_allows(int videosAllowed, int everyNthScene, int scanFactor)
    {
        var owner = Guid.NewGuid();
        var vectors = SyntheticEmbeddings.Generate(40_000, 384, topics: 300, spread: 1.0f, seed: 5);
        var queries = SyntheticEmbeddings.Generate(50, 384, topics: 300, spread: 1.0f, seed: 5, skip: 40_000);
        var videos = vectors.Chunk(100).Select(chunk => (Video: Guid.NewGuid(), Scenes: chunk.Select(v => (SceneId: Guid.NewGuid(), Vector: v)).ToArray())).ToList();
        var index = new SceneVectorIndex(approximateAbove: 1_000, filteredScanFactor: scanFactor);
        index.ReplaceMany(videos.Select(v => (owner, v.Video, v.Scenes.AsEnumerable())));
        index.WaitForBackgroundWork();
        Assert.True(index.IsApproximate(owner));

        var random = new Random(videosAllowed);
        var allowed = videos.OrderBy(_ => random.Next()).Take(videosAllowed).ToList();
        var scenes = allowed.SelectMany(v => v.Scenes.Where((_, i) => i % everyNthScene == 0)).ToList();
        var filter = new SceneFilter(allowed.Select(v => v.Video).ToHashSet(), everyNthScene == 1 ? null : scenes.Select(s => s.SceneId).ToHashSet());
        var recall = queries.Average(query =>
        {
            var exact = scenes.OrderByDescending(s => TensorPrimitives.Dot(query, s.Vector)).Take(10).Select(s => s.SceneId).ToHashSet();
            var found = index.Search(owner, query, 10, filter);
            Assert.Equal(10, found.Count);
            return found.Count(hit => exact.Contains(hit.SceneId)) / 10.0;
        });

        Assert.True(recall >= 0.95, $"recall@10 {recall:0.000} with {scenes.Count} of {vectors.Length} scenes allowed");
    }

    /// <summary>
    /// A filtered search scans what it allows while that costs less than walking the graph past what it rejects: the
    /// share scanned falls as the library grows (<c>bench -- vectors</c> measured where the two cross).
    /// </summary>
    [Theory]
    [InlineData(37_650, 100_000, true)] // 40 % of 100k (bench -- vectors): scanned in 4.2 ms, walked in 6.8
    [InlineData(60_550, 300_000, true)] // 20 % of 300k: scanned in 9.1 ms, walked in 28.1
    [InlineData(119_500, 300_000, false)] // 40 % of 300k: scanned in 17.6 ms, walked in 17.9, where the two cross
    [InlineData(20_000, 250_000, true)] // the 500k search bench's month of one user's uploads: 8 % of 250k, its vector part 42 ms when walked
    [InlineData(190_000, 1_000_000, true)]
    [InlineData(210_000, 1_000_000, false)]
    [InlineData(int.MaxValue, 1_000_000, false)] // no filter: the graph
    public void A_filter_is_scanned_up_to_a_share_that_falls_as_the_library_grows(int allowed, int built, bool scanned) =>
        Assert.Equal(scanned, SceneVectorIndex.ScansFiltered(allowed, built));

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

        index.WaitForBackgroundWork();
        Assert.True(index.IsApproximate(owner));
        var target = videos[5].Scenes[7];
        Assert.Equal(target.SceneId, index.Search(owner, target.Vector, 10)[0].SceneId);

        // Replaced and removed videos are never answered from the old index; new ones are found at once.
        index.Remove(videos[5].Video);
        Assert.DoesNotContain(index.Search(owner, target.Vector, 10), hit => hit.SceneId == target.SceneId);
        var (added, addedVideo) = ((SceneId: Guid.NewGuid(), Vector: target.Vector), Guid.NewGuid());
        index.Replace(owner, addedVideo, [added]);
        Assert.Equal(added.SceneId, index.Search(owner, target.Vector, 10)[0].SceneId);
        // A video no build holds yet (it is scanned) is gone at once when removed, as when replaced.
        index.Replace(owner, addedVideo, [(Guid.NewGuid(), vectors[0])]);
        Assert.DoesNotContain(index.Search(owner, target.Vector, 10), hit => hit.SceneId == added.SceneId);
        index.Remove(addedVideo);
        Assert.DoesNotContain(index.Search(owner, vectors[0], 3000), hit => !videos.Any(v => v.Scenes.Any(scene => scene.SceneId == hit.SceneId)));
        Assert.Empty(index.Search(Guid.NewGuid(), target.Vector, 10)); // another owner sees nothing
    }

    /// <summary>
    /// Every reload of a video writes its floats anew: the file is compacted once the old floats outweigh the held
    /// ones, while searches run, through the scan and through the graph alike, and every similarity a search returns
    /// is still the exact cosine of the vector that scene was given.
    /// </summary>
    [Fact]
    public async Task Reloaded_videos_old_floats_are_compacted_away_while_searches_stay_exact()
    {
        const int dimensions = 64;
        var (large, small) = (Guid.NewGuid(), Guid.NewGuid());
        using var library = SyntheticEmbeddings.Library(dimensions, topics: 50, spread: 1.0f, seed: 6).GetEnumerator();
        var given = new ConcurrentDictionary<Guid, float[]>();
        var latest = new Dictionary<Guid, (Guid SceneId, float[] Vector)[]>();
        (Guid, Guid, IEnumerable<(Guid SceneId, float[] Vector)>) Version(Guid owner, Guid video)
        {
            var scenes = latest[video] = [.. Enumerable.Range(0, 50).Select(_ =>
            {
                library.MoveNext();
                return (SceneId: Guid.NewGuid(), Vector: library.Current);
            })];
            foreach (var (sceneId, vector) in scenes)
            {
                given[sceneId] = vector;
            }

            return (owner, video, scenes);
        }

        var videos = Enumerable.Range(0, 30).Select(i => (Owner: i < 24 ? large : small, Video: Guid.NewGuid())).ToList();
        using var index = new SceneVectorIndex(approximateAbove: 1_000, compactAbove: 0);
        index.ReplaceMany([.. videos.Select(v => Version(v.Owner, v.Video))]);
        index.WaitForBackgroundWork();
        Assert.True(index.IsApproximate(large));
        var held = videos.Count * 50L * dimensions * sizeof(float);
        Assert.Equal(held, index.Status.FileBytes);

        using var reloaded = new CancellationTokenSource();
        var queries = SyntheticEmbeddings.Generate(50, dimensions, topics: 50, spread: 1.0f, seed: 7);
        var searching = Task.Run(() =>
        {
            var searches = 0;
            for (; !reloaded.IsCancellationRequested || searches < queries.Length; searches++)
            {
                var query = queries[searches % queries.Length];
                foreach (var owner in new[] { large, small })
                {
                    Assert.All(index.Search(owner, query, 10), hit => Assert.Equal(TensorPrimitives.Dot(query, given[hit.SceneId]), hit.Similarity, 5));
                }
            }

            return searches;
        });
        for (var round = 0; round < 10; round++)
        {
            foreach (var (owner, video) in videos)
            {
                index.Replace(owner, video, Version(owner, video).Item3);
            }

            // Reloads come seconds apart in the API, not back to back: time for a compaction to run between them.
            index.WaitForBackgroundWork();
        }

        await reloaded.CancelAsync();
        Assert.True(await searching > 0);
        index.WaitForBackgroundWork();
        // Eleven versions were written; what is left is the videos held now, and at most as much again of old floats.
        Assert.InRange(index.Status.FileBytes, held, 3 * held);
        Assert.Equal(videos.Count * 50, index.Status.Vectors);
        foreach (var query in queries)
        {
            // The small owner's scenes are scanned: exactly the nearest of the versions held now.
            var nearest = videos.Where(v => v.Owner == small).SelectMany(v => latest[v.Video])
                .OrderByDescending(scene => TensorPrimitives.Dot(query, scene.Vector)).Take(10).Select(scene => scene.SceneId);
            Assert.Equal(nearest, index.Search(small, query, 10).Select(hit => hit.SceneId));
            var now = videos.Where(v => v.Owner == large).SelectMany(v => latest[v.Video]).Select(scene => scene.SceneId).ToHashSet();
            Assert.All(index.Search(large, query, 10), hit =>
            {
                Assert.Contains(hit.SceneId, now);
                Assert.Equal(TensorPrimitives.Dot(query, given[hit.SceneId]), hit.Similarity, 5);
            });
        }
    }

    /// <summary>
    /// A large library's new videos are added to its graph in the background while it is searched, not scanned until
    /// a fifth of it is new and then built again (208 s at 500,000 vectors): the graph grows two and a half times
    /// here, room made for it as it goes, and searches meanwhile find each scene once, at its exact similarity.
    /// Replaced videos leave rows that answer for nothing; a fifth of the graph's rows such, it is built anew.
    /// </summary>
    [Theory]
    [InlineData(GraphVectors.Int8)]
    [InlineData(GraphVectors.QuartileBits)]
    public void A_large_librarys_new_videos_join_its_graph_while_it_is_searched_and_it_is_built_anew_once_a_fifth_is_replaced(GraphVectors graphVectors)
    {
        var owner = Guid.NewGuid();
        var vectors = SharingADirection(SyntheticEmbeddings.Generate(10_100, 128, topics: 100, spread: 1.0f, seed: 8));
        var queries = vectors[10_000..];
        var videos = vectors[..10_000].Chunk(50)
            .Select(chunk => (Video: Guid.NewGuid(), Scenes: chunk.Select(v => (SceneId: Guid.NewGuid(), Vector: v)).ToArray())).ToList();
        var snapshots = Directory.CreateTempSubdirectory("heimdex-snapshots-").FullName;
        try
        {
            using var index = new SceneVectorIndex(approximateAbove: 1_000, snapshotDirectory: snapshots, graphVectors: graphVectors);
            index.ReplaceMany(videos[..80].Select(v => (owner, v.Video, v.Scenes.AsEnumerable())));
            index.WaitForBackgroundWork();
            Assert.Equal((1, 0), (index.Status.BuildsCompleted, index.Status.BuildsExtended));

            var given = videos.SelectMany(v => v.Scenes).ToDictionary(scene => scene.SceneId, scene => scene.Vector);
            foreach (var (video, scenes) in videos[80..])
            {
                index.Replace(owner, video, scenes);
                // Searched for while it is added to the graph (and scanned until it is in): each scene found once, exactly.
                var searched = 0;
                do
                {
                    var query = scenes[searched++ % scenes.Length].Vector;
                    var found = index.Search(owner, query, 10);
                    Assert.Equal(found.Count, found.DistinctBy(hit => hit.SceneId).Count());
                    Assert.All(found, hit => Assert.Equal(TensorPrimitives.Dot(query, given[hit.SceneId]), hit.Similarity, 5));
                }
                while (index.Status.VectorsBesideBuilds > 0);
            }

            index.WaitForBackgroundWork();
            var grown = index.Status;
            Assert.Equal((10_000, 1, 0), (grown.Vectors, grown.BuildsCompleted, grown.VectorsBesideBuilds));
            Assert.Equal(120, grown.BuildsExtended);
            Assert.Null(grown.Problem);
            // Its snapshot was saved again as it grew: a restart reads most of it rather than adding it again.
            var (saved, rows) = IndexSnapshot.TryLoad(snapshots, owner)!.Value;
            saved.Dispose();
            Assert.InRange(rows.Length, 10_000 * 5 / 6, 10_000);
            var recall = queries.Average(query =>
            {
                var exact = given.OrderByDescending(scene => TensorPrimitives.Dot(query, scene.Value)).Take(10).Select(scene => scene.Key).ToHashSet();
                return index.Search(owner, query, 10).Count(hit => exact.Contains(hit.SceneId)) / 10.0;
            });
            Assert.True(recall >= 0.95, $"recall@10 {recall:0.000} through the extended graph");

            // 3,000 vectors embedded again: their old rows answer for nothing, and once they are a fifth of the rows the
            // graph is built anew, once; the replacements after that are added to the new graph.
            var reembedded = SharingADirection(SyntheticEmbeddings.Generate(3_000, 128, topics: 100, spread: 1.0f, seed: 9));
            var replacements = videos[..60]
                .Select((v, i) => (v.Video, Scenes: v.Scenes.Select((scene, j) => (scene.SceneId, Vector: reembedded[i * 50 + j])).ToArray())).ToList();
            foreach (var (video, scenes) in replacements)
            {
                index.Replace(owner, video, scenes);
            }

            index.WaitForBackgroundWork();
            Assert.Equal((2, 0, null), (index.Status.BuildsCompleted, index.Status.VectorsBesideBuilds, index.Status.Problem));
            var (before, after) = (videos[3].Scenes[7], replacements[3].Scenes[7]);
            Assert.Equal(after.SceneId, index.Search(owner, after.Vector, 10)[0].SceneId);
            Assert.DoesNotContain(index.Search(owner, before.Vector, 10), hit => hit.SceneId == before.SceneId && hit.Similarity > 0.999f);
            var (lastBefore, lastAfter) = (videos[59].Scenes[0], replacements[59].Scenes[0]);
            Assert.Equal(lastAfter.SceneId, index.Search(owner, lastAfter.Vector, 10)[0].SceneId);
            Assert.DoesNotContain(index.Search(owner, lastBefore.Vector, 10), hit => hit.SceneId == lastBefore.SceneId && hit.Similarity > 0.999f);
        }
        finally
        {
            Directory.Delete(snapshots, recursive: true);
        }
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

        loadedAtOnce.WaitForBackgroundWork();
        loadedOneByOne.WaitForBackgroundWork();
        Assert.Equal(new VectorIndexStatus(5_000, 1, 1, 0, 1), loadedAtOnce.Status with { GraphBytes = 0, HeldBytes = 0, FileBytes = 0 });
        // One by one, the first build (at the threshold) is extended by the videos that come after, not built again.
        Assert.Equal((1, 0), (loadedOneByOne.Status.BuildsCompleted, loadedOneByOne.Status.VectorsBesideBuilds));
        Assert.True(loadedOneByOne.Status.BuildsExtended >= 1);
    }

    [Fact]
    public void A_restarted_index_reads_its_saved_build_and_answers_what_changed_since_exactly()
    {
        var directory = Directory.CreateTempSubdirectory("heimdex-snapshots-").FullName;
        try
        {
            var owner = Guid.NewGuid();
            var vectors = SyntheticEmbeddings.Generate(3_000, 64, topics: 50, spread: 1.0f, seed: 6);
            var videos = vectors.Chunk(100).Select(chunk => (Video: Guid.NewGuid(), Scenes: chunk.Select(v => (SceneId: Guid.NewGuid(), Vector: v)).ToArray())).ToList();
            var first = new SceneVectorIndex(approximateAbove: 1_000, snapshotDirectory: directory);
            first.ReplaceMany(videos.Select(v => (owner, v.Video, v.Scenes.AsEnumerable())));
            first.WaitForBackgroundWork();
            Assert.Equal((1, 0, null), (first.Status.BuildsCompleted, first.Status.SnapshotsLoaded, first.Status.Problem));

            // While the API was down: a video deleted, a video's scenes embedded again (same scenes, new vectors), a video added.
            var (removed, changed) = (videos[3], videos[4]);
            var reembedded = changed.Scenes.Select((scene, i) => (scene.SceneId, Vector: videos[10].Scenes[i].Vector)).ToArray();
            var added = (Video: Guid.NewGuid(), Scenes: new[] { (SceneId: Guid.NewGuid(), removed.Scenes[0].Vector) });
            // Each video's scenes come in another order than before, as Postgres hands rows when its plan changes.
            SceneVectorIndex Restart()
            {
                var restarted = new SceneVectorIndex(approximateAbove: 1_000, snapshotDirectory: directory);
                restarted.ReplaceMany(videos.Where(v => v != removed)
                    .Select(v => (owner, v.Video, v == changed ? reembedded.AsEnumerable() : Enumerable.Reverse(v.Scenes)))
                    .Append((owner, added.Video, added.Scenes)));
                restarted.WaitForBackgroundWork();
                return restarted;
            }

            var index = Restart();
            Assert.Equal((0, 1), (index.Status.BuildsCompleted, index.Status.SnapshotsLoaded));
            Assert.True(index.IsApproximate(owner));

            // An unchanged scene is answered from the saved graph; a deleted one never, even by its own vector.
            var kept = videos[20].Scenes[3];
            Assert.Equal(kept.SceneId, index.Search(owner, kept.Vector, 10)[0].SceneId);
            var byDeleted = index.Search(owner, removed.Scenes[0].Vector, 10);
            Assert.Equal(added.Scenes[0].SceneId, byDeleted[0].SceneId);
            Assert.DoesNotContain(byDeleted, hit => hit.SceneId == removed.Scenes[0].SceneId);
            // A scene embedded again is found by its new vector at its new similarity, once.
            var target = reembedded[5];
            var found = index.Search(owner, target.Vector, 10);
            Assert.Single(found, hit => hit.SceneId == target.SceneId && hit.Similarity == TensorPrimitives.Dot(target.Vector, target.Vector));
            Assert.DoesNotContain(index.Search(owner, changed.Scenes[5].Vector, 10), hit => hit.SceneId == target.SceneId && hit.Similarity > 0.999f);

            // A damaged snapshot is not read: the index is built again.
            var graph = Directory.GetFiles(directory, "*.usearch").Single();
            File.WriteAllBytes(graph, [.. File.ReadAllBytes(graph).Take(1000)]);
            var rebuilt = Restart();
            Assert.Equal((1, 0), (rebuilt.Status.BuildsCompleted, rebuilt.Status.SnapshotsLoaded));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
