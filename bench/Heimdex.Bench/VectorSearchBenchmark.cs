using System.Diagnostics;
using System.Numerics.Tensors;
using Heimdex.Search;
using Heimdex.Search.Indexes;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;

namespace Heimdex.Bench;

/// <summary>
/// The semantic part of search at library sizes no test reaches: synthetic 384-d scene embeddings (topics with
/// scenes scattered around them) for one owner. Printed per size: index build time, memory per vector, p50/p95 of
/// the scan (8-bit vectors, the best re-ranked by their floats from disk) and of the HNSW index (quartile bits, as the
/// API holds sentence embeddings; candidates re-ranked the same way), recall@10 of HNSW against an exact float scan,
/// and the query-embedding step. Then, per share of the library a filter allows (a random set of its videos), what a
/// filtered search for as many candidates as search asks for costs by each of its two ways: scanning the allowed
/// vectors' floats, or walking the graph with the filter (recall@10 against the scan, which is exact).
/// </summary>
public sealed class VectorSearchBenchmark(int[] sizes)
{
    public Task RunAsync()
    {
        var encoder = SentenceEncoder.Load(new ModelOptions());
        var queryTexts = new[] { "optimizing the loss function", "a deer in the forest", "ask not what your country can do" };
        foreach (var text in queryTexts)
        {
            encoder.Embed(text);
        }

        Report("query embedding", [.. Enumerable.Range(0, 60).Select(i => Latency.Time(() => encoder.Embed(queryTexts[i % queryTexts.Length])))], null);
        Console.WriteLine($"{"scenes",9} {"part",-22} {"p50 ms",8} {"p95 ms",8}  notes");
        foreach (var size in sizes)
        {
            var owner = Guid.NewGuid();
            var vectors = SyntheticEmbeddings.Generate(size, SentenceEncoder.Dimensions, topics: Math.Max(50, size / 200), spread: 1.0f, seed: 5);
            using var exactOnly = new SceneVectorIndex(approximateAbove: int.MaxValue);
            using var approximate = new SceneVectorIndex(approximateAbove: size, graphVectors: GraphVectors.QuartileBits); // one build, once every vector is in
            var videos = vectors.Chunk(50).Select(chunk => (Guid.NewGuid(), chunk.Select(v => (Guid.NewGuid(), v)).ToArray())).ToList();
            foreach (var (video, scenes) in videos)
            {
                exactOnly.Replace(owner, video, scenes);
            }

            var clock = Stopwatch.StartNew();
            foreach (var (video, scenes) in videos)
            {
                approximate.Replace(owner, video, scenes);
            }

            approximate.WaitForBackgroundWork();
            var build = clock.Elapsed.TotalSeconds;
            var queries = SyntheticEmbeddings.Generate(100, SentenceEncoder.Dimensions, topics: Math.Max(50, size / 200), spread: 1.0f, seed: 5, skip: size);
            var exactHits = queries.Select(q => vectors.Select((v, i) => (i, Similarity: TensorPrimitives.Dot(q, v))).OrderByDescending(h => h.Similarity)
                .Take(10).Select(h => videos[h.i / 50].Item2[h.i % 50].Item1).ToHashSet()).ToList();
            var scanTimes = queries.Select(q => Latency.Time(() => exactOnly.Search(owner, q, 10))).ToList();
            var recall = 0.0;
            var approximateTimes = queries.Select((q, i) => Latency.Time(() => recall += approximate.Search(owner, q, 10).Count(h => exactHits[i].Contains(h.SceneId)) / 10.0)).ToList();
            var status = approximate.Status;
            Report($"{size,9} 8-bit scan", scanTimes, $"{exactOnly.Status.HeldBytes / (double)size:0} bytes per vector (8-bit copies and ids); floats on disk");
            Report($"{size,9} HNSW", approximateTimes, $"recall@10 {recall / queries.Length:0.000}; build {build:0.0} s (all vectors, one owner); " +
                                                        $"{(status.GraphBytes + status.HeldBytes) / (double)size:0} bytes per vector " +
                                                        $"({status.GraphBytes / (double)size:0} graph, {status.HeldBytes / (double)size:0} ids and rows); floats on disk");
            ReportFiltered(owner, videos, queries, size);
            vectors = null;
        }

        return Task.CompletedTask;
    }

    private static readonly double[] FilteredShares = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4];

    private static void ReportFiltered(Guid owner, List<(Guid Video, (Guid SceneId, float[] Vector)[] Scenes)> videos, float[][] queries, int size)
    {
        // One build each: the first scans whatever a filter allows, the second always walks its graph.
        using var scanning = new SceneVectorIndex(approximateAbove: size, filteredScanFactor: int.MaxValue, graphVectors: GraphVectors.QuartileBits);
        using var walking = new SceneVectorIndex(approximateAbove: size, filteredScanFactor: 0, graphVectors: GraphVectors.QuartileBits);
        foreach (var index in new[] { scanning, walking })
        {
            index.ReplaceMany(videos.Select(v => (owner, v.Video, v.Scenes.AsEnumerable())));
            index.WaitForBackgroundWork();
        }

        var random = new Random(17);
        foreach (var share in FilteredShares)
        {
            var filter = new SceneFilter(videos.Select(v => v.Video).Where(_ => random.NextDouble() < share).ToHashSet());
            var allowed = videos.Where(v => filter.Videos!.Contains(v.Video)).Sum(v => v.Scenes.Length);
            var (recall, scanTimes, walkTimes) = (0.0, new List<double>(), new List<double>());
            foreach (var query in queries)
            {
                IReadOnlyList<(Guid SceneId, float Similarity)> exact = [], walked = [];
                scanTimes.Add(Latency.Time(() => exact = scanning.Search(owner, query, SceneSearch.CandidatesPerRanking, filter)));
                walkTimes.Add(Latency.Time(() => walked = walking.Search(owner, query, SceneSearch.CandidatesPerRanking, filter)));
                var nearest = exact.Take(10).Select(hit => hit.SceneId).ToHashSet();
                recall += walked.Take(10).Count(hit => nearest.Contains(hit.SceneId)) / 10.0;
            }

            Report($"{size,9} filtered to {share:0.0%}: scan", scanTimes, $"{allowed:N0} vectors allowed, their floats read from the file");
            Report($"{size,9} filtered to {share:0.0%}: walk", walkTimes, $"recall@10 {recall / queries.Length:0.000} against the scan");
        }
    }

    private static void Report(string what, List<double> milliseconds, string? notes)
    {
        Console.WriteLine($"{what,-32} {Latency.Percentile(milliseconds, 50),8:0.00} {Latency.Percentile(milliseconds, 95),8:0.00}  {notes}");
    }
}
