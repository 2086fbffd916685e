using System.Diagnostics;
using System.Runtime.InteropServices;
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
/// it and in an exact scan. Printed as <see cref="Report"/> prints it. Embedding is the slow part (about 4 ms a sentence
/// on a core), so the embeddings are kept in a file in the temporary folder and a later run embeds only those it lacks.
/// </summary>
public sealed class SentenceIndexBenchmark(int[] sizes)
{
    private const int QuerySeed = 99;
    private const int EmbeddedPerStep = 10_000;

    /// <summary>Named by what draws the sentences; delete it after changing the sentence encoder or <see cref="SyntheticText"/>.</summary>
    private static readonly string CacheFile = Path.Combine(Path.GetTempPath(),
        $"heimdex-bench-sentence-embeddings-{SearchBenchmark.VocabularySeed}-{SearchBenchmark.WordsPerScene}.bin");

    public Task RunAsync()
    {
        using var encoder = SentenceEncoder.Load(new ModelOptions());
        var embeddings = Embeddings(encoder, sizes.Max());
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

    /// <summary>
    /// The embeddings of the first <paramref name="count"/> sentences <see cref="SearchBenchmark"/>'s text draws, those
    /// in the file and the rest embedded on every core, a step at a time, each step added to the file.
    /// </summary>
    private static float[][] Embeddings(SentenceEncoder encoder, int count)
    {
        var embeddings = Cached(count);
        var text = new SyntheticText(SearchBenchmark.VocabularySeed);
        var sentences = Enumerable.Range(0, count).Select(_ => text.Sentence(SearchBenchmark.WordsPerScene)).ToArray();
        var clock = Stopwatch.StartNew();
        for (var start = embeddings.Count; start < count; start += EmbeddedPerStep)
        {
            var step = Embed(encoder, sentences[start..Math.Min(start + EmbeddedPerStep, count)]);
            embeddings.AddRange(step);
            Append(step, embeddings.Count);
            Console.WriteLine($"embedded {embeddings.Count} of {count} sentences ({clock.Elapsed.TotalSeconds:0} s)");
        }

        return [.. embeddings];
    }

    /// <summary>
    /// The sentences' embeddings, one sentence per core at a time: more at once only contend for the cores (unbounded,
    /// the thread pool kept adding threads, and 10,000 sentences took 79 s instead of 46).
    /// </summary>
    public static float[][] Embed(SentenceEncoder encoder, string[] sentences)
    {
        var embeddings = new float[sentences.Length][];
        Parallel.For(0, sentences.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => embeddings[i] = encoder.Embed(sentences[i]));
        return embeddings;
    }

    private static List<float[]> Cached(int count)
    {
        var embeddings = new List<float[]>();
        if (!File.Exists(CacheFile))
        {
            return embeddings;
        }

        using var reader = new BinaryReader(File.OpenRead(CacheFile));
        var cached = Math.Min(reader.ReadInt32(), count);
        for (var i = 0; i < cached; i++)
        {
            var vector = new float[SentenceEncoder.Dimensions];
            reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(vector.AsSpan()));
            embeddings.Add(vector);
        }

        Console.WriteLine($"{cached} embeddings read from {CacheFile}");
        return embeddings;
    }

    /// <summary>Adds a step's embeddings to the file, then its count: a run stopped midway keeps every step it finished.</summary>
    private static void Append(float[][] step, int total)
    {
        using var file = new FileStream(CacheFile, FileMode.OpenOrCreate);
        using var writer = new BinaryWriter(file);
        if (file.Length == 0)
        {
            writer.Write(0);
        }

        file.Seek(sizeof(int) + (long)(total - step.Length) * SentenceEncoder.Dimensions * sizeof(float), SeekOrigin.Begin);
        foreach (var vector in step)
        {
            writer.Write(MemoryMarshal.AsBytes(vector.AsSpan()));
        }

        writer.Flush();
        file.Seek(0, SeekOrigin.Begin);
        writer.Write(total);
    }
}
