using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;

namespace Heimdex.Bench;

/// <summary>
/// The sentence encoder as search uses it — p50/p95 latency of embedding a query (what the API does per search) and of
/// a scene's text at the 256-token cap (what the embed stage does per scene), after a warm-up — for the sentence
/// encoder (ONNX Runtime running all-MiniLM-L6-v2's ONNX graph) and for Heimdex's own BERT it replaced, with the
/// published sentence-transformers similarities each reproduces and how alike their vectors are.
/// </summary>
public sealed class EmbeddingBenchmark
{
    private static readonly string[] Queries =
    [
        "ask not what your country can do", "optimizing the loss function", "a deer in the forest", "contry",
        "who is speaking about taxes", "slides about neural networks", "the weather is lovely today", "a red car on a wet road",
        "president giving a speech", "how do transformers handle long sequences",
    ];

    /// <summary>The model card's example: "The weather is lovely today." against each, as sentence-transformers computes it.</summary>
    private static readonly (string Other, double Published)[] Published = [("It's so sunny outside!", 0.666), ("He drove to the stadium.", 0.105)];

    public Task RunAsync()
    {
        Console.WriteLine($"{Environment.ProcessorCount} cores");
        var clock = Stopwatch.StartNew();
        using var encoder = SentenceEncoder.Load(new ModelOptions());
        Console.WriteLine($"sentence encoder (ONNX Runtime, all-MiniLM-L6-v2's fp32 graph, {encoder.Provider}): load {clock.Elapsed.TotalMilliseconds:0} ms");
        var runtime = Measure(encoder.Embed);
        clock.Restart();
        var bert = HeimdexBert.Load(new ModelOptions());
        Console.WriteLine($"Heimdex's own BERT (fp16 weights, System.Numerics.Tensors; the encoder before): load {clock.Elapsed.TotalMilliseconds:0} ms");
        var heimdex = Measure(bert.Embed);
        var agreement = Queries.Select(q => TensorPrimitives.Dot(bert.Embed(q), encoder.Embed(q))).ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"the two encoders' vectors for the same query: cosine min {agreement.Min():0.0000}, mean {agreement.Average():0.0000}"));
        Console.WriteLine($"faster at queries: {(heimdex < runtime ? "Heimdex's own BERT" : "ONNX Runtime")} (p50 {runtime:0.00} vs {heimdex:0.00} ms)");
        return Task.CompletedTask;
    }

    /// <summary>Prints one encoder's figures and returns its query p50 in milliseconds.</summary>
    private static double Measure(Func<string, float[]> embed)
    {
        foreach (var query in Queries)
        {
            embed(query);
        }

        var queries = Enumerable.Range(0, 50).SelectMany(_ => Queries).Select(q => Latency.Time(() => embed(q))).ToList();
        Report("  query (3-8 words)", queries);
        var scene = string.Join(' ', Enumerable.Repeat("and so my fellow americans ask not what your country can do for you", 25));
        Report("  scene text (256 tokens)", [.. Enumerable.Range(0, 20).Select(_ => Latency.Time(() => embed(scene)))]);
        var weather = embed("The weather is lovely today.");
        Console.WriteLine("  published similarities: " + string.Join(", ", Published.Select(p =>
            string.Create(CultureInfo.InvariantCulture, $"\"{p.Other}\" {TensorPrimitives.Dot(weather, embed(p.Other)):0.000} (published {p.Published:0.000})"))));
        return Latency.Percentile(queries, 50);
    }

    private static void Report(string what, List<double> milliseconds)
    {
        Console.WriteLine($"{what,-26} n={milliseconds.Count,4}  p50 {Latency.Percentile(milliseconds, 50),7:0.00} ms  p95 {Latency.Percentile(milliseconds, 95),7:0.00} ms");
    }
}
