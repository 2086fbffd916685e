using System.Diagnostics;
using Heimdex.Search;
using Heimdex.Search.Indexes;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;
using Microsoft.Extensions.Options;

namespace Heimdex.Bench;

/// <summary>
/// The API's sentence index on real MiniLM embeddings, without a running graph: per size, one owner's embeddings of
/// that many generated sentences (the sentences <see cref="SearchBenchmark"/> writes, which lie closer together than
/// synthetic vectors, so their nearest are harder to find through a quantised graph) in the index as the API configures
/// it and in an exact scan. Printed as <see cref="Report"/> prints it. The embeddings come from
/// <see cref="SentenceEmbeddings"/>, so a later run embeds only those no earlier run did.
/// </summary>
public sealed class SentenceIndexBenchmark(int[] sizes)
{
    private const int QuerySeed = 99;

    public Task RunAsync()
    {
        using var encoder = SentenceEncoder.Load(new ModelOptions());
        float[][] embeddings;
        using (var sentences = new SentenceEmbeddings(encoder))
        {
            embeddings = sentences.Next(sizes.Max()).Vectors;
        }

        var queryText = new SyntheticText(SearchBenchmark.VocabularySeed, samplingSeed: QuerySeed);
        var queries = Enumerable.Range(0, 200).Select(_ => encoder.Embed(queryText.Sentence(8))).ToList();
        foreach (var size in sizes.Order())
        {
            var videos = embeddings.Take(size).Chunk(SearchBenchmark.ScenesPerVideo)
                .Select(chunk => (Guid.NewGuid(), chunk.Select(vector => (Guid.NewGuid(), vector)).ToArray())).ToList();
            Report($"{size,9} sentence embeddings", Guid.NewGuid(), videos, queries);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The owner's vectors in an index as the API builds its sentence index and in an exact scan: recall@10 of the
    /// candidates the approximate index gives search (how many of the exact 10 nearest are among its 10 best), its
    /// search p50/p95, the build's time and the index's memory per vector.
    /// </summary>
    public static void Report(string what, Guid owner, List<(Guid Video, (Guid SceneId, float[] Vector)[] Scenes)> videos, IReadOnlyList<float[]> queries)
    {
        using var indexes = new SceneIndexes(Options.Create(new SearchOptions()));
        var approximate = indexes.Text;
        using var exact = new SceneVectorIndex(approximateAbove: int.MaxValue);
        var clock = Stopwatch.StartNew();
        approximate.ReplaceMany(videos.Select(v => (owner, v.Video, v.Scenes.AsEnumerable())));
        approximate.WaitForBackgroundWork();
        var build = clock.Elapsed;
        exact.ReplaceMany(videos.Select(v => (owner, v.Video, v.Scenes.AsEnumerable())));
        var (recall, times) = (0.0, new List<double>());
        foreach (var query in queries)
        {
            var nearest = exact.Search(owner, query, 10).Select(hit => hit.SceneId).ToHashSet();
            times.Add(Latency.Time(() => recall += approximate.Search(owner, query, SceneSearch.CandidatesPerRanking)
                .Take(10).Count(hit => nearest.Contains(hit.SceneId)) / 10.0));
        }

        var status = approximate.Status;
        Console.WriteLine($"{what} ({status.Vectors} vectors, HNSW: {approximate.IsApproximate(owner)}, built in {build.TotalSeconds:0} s): " +
                          $"recall@10 {recall / queries.Count:0.000} against the exact scan, {SceneSearch.CandidatesPerRanking} candidates asked for; " +
                          $"search p50 {Latency.Percentile(times, 50):0.0} ms, p95 {Latency.Percentile(times, 95):0.0} ms; " +
                          $"{(status.GraphBytes + status.HeldBytes) / (double)status.Vectors:0} bytes per vector in memory");
    }
}
