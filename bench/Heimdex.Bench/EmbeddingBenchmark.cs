using System.Diagnostics;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;

namespace Heimdex.Bench;

/// <summary>
/// The sentence encoder as search uses it: p50/p95 latency of embedding a query (what the API does per search) and
/// of a scene's text at the 256-token cap (what the embed stage does per scene), after a warm-up.
/// </summary>
public sealed class EmbeddingBenchmark
{
    private static readonly string[] Queries =
    [
        "ask not what your country can do", "optimizing the loss function", "a deer in the forest", "contry",
        "who is speaking about taxes", "slides about neural networks", "the weather is lovely today", "a red car on a wet road",
        "president giving a speech", "how do transformers handle long sequences",
    ];

    public Task RunAsync()
    {
        var clock = Stopwatch.StartNew();
        var encoder = SentenceEncoder.Load(new ModelOptions());
        Console.WriteLine($"model load: {clock.Elapsed.TotalMilliseconds:0} ms; {Environment.ProcessorCount} cores");
        foreach (var query in Queries)
        {
            encoder.Embed(query);
        }

        Report("query (3-8 words)", Enumerable.Range(0, 50).SelectMany(_ => Queries).Select(q => Latency.Time(() => encoder.Embed(q))).ToList());
        var scene = string.Join(' ', Enumerable.Repeat("and so my fellow americans ask not what your country can do for you", 25));
        Report("scene text (256 tokens)", Enumerable.Range(0, 20).Select(_ => Latency.Time(() => encoder.Embed(scene))).ToList());
        return Task.CompletedTask;
    }

    private static void Report(string what, List<double> milliseconds)
    {
        Console.WriteLine($"{what,-24} n={milliseconds.Count,4}  p50 {Latency.Percentile(milliseconds, 50),7:0.00} ms  p95 {Latency.Percentile(milliseconds, 95),7:0.00} ms");
    }
}
