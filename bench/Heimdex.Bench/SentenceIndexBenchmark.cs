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
/// Then the floor of a search's cost on this machine: <c>clients</c> callers at once, each embedding queries as the
/// bench's clients type them and searching this index for the candidates, as every search must, with nothing else.
/// </summary>
public sealed class SentenceIndexBenchmark(int[] sizes, int clients, TimeSpan duration)
{
    private const int QuerySeed = 99;

    /// <summary>
    /// In <see cref="SearchBenchmark"/> the 99 other users share the half of the scenes the large user does not hold.
    /// </summary>
    private const int SmallUsers = 99;

    public Task RunAsync()
    {
        // As the API runs it: one thread per embedding, callers in parallel.
        using var encoder = SentenceEncoder.Load(new ModelOptions { ThreadsPerRun = 1 });
        float[][] embeddings;
        using (var sentences = new SentenceEmbeddings(encoder))
        {
            embeddings = sentences.Next(sizes.Max() + sizes.Max() / SmallUsers).Vectors;
        }

        var queryText = new SyntheticText(SearchBenchmark.VocabularySeed, samplingSeed: QuerySeed);
        var queries = Enumerable.Range(0, 200).Select(_ => encoder.Embed(queryText.Sentence(8))).ToList();
        foreach (var size in sizes.Order())
        {
            var (large, small) = (Guid.NewGuid(), Guid.NewGuid());
            Report($"{size,9} sentence embeddings", large, Videos(embeddings.Take(size)), queries, index =>
            {
                index.ReplaceMany(Videos(embeddings.Skip(size).Take(size / SmallUsers)).Select(v => (small, v.Video, v.Scenes.AsEnumerable())));
                index.WaitForBackgroundWork();
                ReportFloor(size, index, encoder, large, small);
            });
        }

        return Task.CompletedTask;
    }

    private static List<(Guid Video, (Guid SceneId, float[] Vector)[] Scenes)> Videos(IEnumerable<float[]> embeddings) =>
        [.. embeddings.Chunk(SearchBenchmark.ScenesPerVideo).Select(chunk => (Guid.NewGuid(), chunk.Select(vector => (Guid.NewGuid(), vector)).ToArray()))];

    /// <summary>
    /// The work no search can skip, under <c>clients</c> callers on their own threads: half the queries the large user's
    /// (<paramref name="size"/> vectors), half a small user's (a 99th of that), of the search bench's kinds; each query
    /// embedded, then, unless it is limited to one video, the owner's candidates found without a filter. No HTTP, no
    /// PostgreSQL, no ranking of words, no page of hits: a search request costs this and more, so a p95 here over a
    /// latency goal means the goal cannot be met on this machine by a search that embeds its query.
    /// </summary>
    private void ReportFloor(int size, SceneVectorIndex index, SentenceEncoder encoder, Guid large, Guid small)
    {
        var (whole, embedding) = (new List<double>[clients], new List<double>[clients]);
        var until = Stopwatch.StartNew();
        var callers = Enumerable.Range(0, clients).Select(caller => new Thread(() =>
        {
            var (random, text) = (new Random(caller), new SyntheticText(SearchBenchmark.VocabularySeed, samplingSeed: caller));
            (whole[caller], embedding[caller]) = ([], []);
            while (until.Elapsed < duration)
            {
                var owner = random.Next(2) == 0 ? large : small;
                var kind = SearchBenchmark.Kinds[random.Next(SearchBenchmark.Kinds.Length)];
                var query = SearchBenchmark.QueryText(text, kind);
                var clock = Stopwatch.StartNew();
                var vector = encoder.Embed(query);
                embedding[caller].Add(clock.Elapsed.TotalMilliseconds);
                if (kind != "video")
                {
                    index.Search(owner, vector, SceneSearch.CandidatesPerRanking);
                }

                whole[caller].Add(clock.Elapsed.TotalMilliseconds);
            }
        })).ToList();
        callers.ForEach(caller => caller.Start());
        callers.ForEach(caller => caller.Join());
        var (all, embeds) = (whole.SelectMany(t => t).ToList(), embedding.SelectMany(t => t).ToList());
        Console.WriteLine($"{size,9} floor, {clients} callers for {duration.TotalSeconds:0} s on {Environment.ProcessorCount} cores " +
                          $"({all.Count / duration.TotalSeconds:0}/s): embed + vectors p50 {Latency.Percentile(all, 50):0.0} ms, " +
                          $"p95 {Latency.Percentile(all, 95):0.0} ms, p99 {Latency.Percentile(all, 99):0.0} ms; " +
                          $"embed alone p50 {Latency.Percentile(embeds, 50):0.0} ms, p95 {Latency.Percentile(embeds, 95):0.0} ms");
    }

    /// <summary>
    /// The owner's vectors in an index as the API builds its sentence index and in an exact scan: recall@10 of the
    /// candidates the approximate index gives search (how many of the exact 10 nearest are among its 10 best), its
    /// search p50/p95, the build's time and the index's memory per vector.
    /// </summary>
    public static void Report(string what, Guid owner, List<(Guid Video, (Guid SceneId, float[] Vector)[] Scenes)> videos, IReadOnlyList<float[]> queries,
                              Action<SceneVectorIndex>? then = null)
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
        then?.Invoke(approximate);
    }
}
