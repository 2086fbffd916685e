using System.Diagnostics;
using System.Runtime.InteropServices;
using Heimdex.Shared.Embeddings;

namespace Heimdex.Bench;

/// <summary>
/// The scene sentences the search benches write, drawn in one order from <see cref="SearchBenchmark"/>'s text, with
/// their MiniLM embeddings. Embedding is the slow part (about 4 ms a sentence on a core), so the embeddings are kept
/// in a file in the temporary folder (a count, then the vectors in order): those the file holds are read back, the
/// rest embedded on every core a step at a time, each step added to the file, so only a first run pays for them.
/// </summary>
public sealed class SentenceEmbeddings : IDisposable
{
    private const int EmbeddedPerStep = 10_000;
    private const int VectorBytes = SentenceEncoder.Dimensions * sizeof(float);

    /// <summary>Named by what draws the sentences; delete it after changing the sentence encoder or <see cref="SyntheticText"/>.</summary>
    private static readonly string CacheFile = Path.Combine(Path.GetTempPath(),
        $"heimdex-bench-sentence-embeddings-{SearchBenchmark.VocabularySeed}-{SearchBenchmark.WordsPerScene}.bin");

    private readonly SentenceEncoder _encoder;
    private readonly SyntheticText _text = new(SearchBenchmark.VocabularySeed);
    private readonly FileStream _cache;
    private int _cached;
    private int _drawn;

    public SentenceEmbeddings(SentenceEncoder encoder)
    {
        _encoder = encoder;
        _cache = new FileStream(CacheFile, FileMode.OpenOrCreate, FileAccess.ReadWrite);
        Span<byte> count = stackalloc byte[sizeof(int)];
        if (_cache.Length >= sizeof(int))
        {
            _cache.ReadExactly(count);
            _cached = BitConverter.ToInt32(count);
        }

        Console.WriteLine($"{_cached} sentence embeddings in {CacheFile}");
    }

    /// <summary>The next <paramref name="count"/> sentences and their embeddings.</summary>
    public (string[] Sentences, float[][] Vectors) Next(int count)
    {
        var sentences = Enumerable.Range(0, count).Select(_ => _text.Sentence(SearchBenchmark.WordsPerScene)).ToArray();
        var vectors = new float[count][];
        var read = Math.Clamp(_cached - _drawn, 0, count);
        _cache.Seek(sizeof(int) + (long)_drawn * VectorBytes, SeekOrigin.Begin);
        for (var i = 0; i < read; i++)
        {
            vectors[i] = new float[SentenceEncoder.Dimensions];
            _cache.ReadExactly(MemoryMarshal.AsBytes(vectors[i].AsSpan()));
        }

        var clock = Stopwatch.StartNew();
        for (var start = read; start < count; start += EmbeddedPerStep)
        {
            var end = Math.Min(start + EmbeddedPerStep, count);
            Embed(sentences, vectors, start, end);
            Append(vectors.AsSpan(start, end - start));
            if (count > EmbeddedPerStep)
            {
                Console.WriteLine($"embedded {end - read} of {count - read} sentences ({clock.Elapsed.TotalSeconds:0} s)");
            }
        }

        _drawn += count;
        return (sentences, vectors);
    }

    public void Dispose() => _cache.Dispose();

    /// <summary>
    /// One sentence per core at a time: more at once only contend for the cores (unbounded, the thread pool kept
    /// adding threads, and 10,000 sentences took 79 s instead of 46).
    /// </summary>
    private void Embed(string[] sentences, float[][] vectors, int start, int end) =>
        Parallel.For(start, end, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => vectors[i] = _encoder.Embed(sentences[i]));

    /// <summary>Adds embeddings that follow the file's last, then its count: a run stopped midway keeps every step it finished.</summary>
    private void Append(ReadOnlySpan<float[]> vectors)
    {
        _cache.Seek(sizeof(int) + (long)_cached * VectorBytes, SeekOrigin.Begin);
        foreach (var vector in vectors)
        {
            _cache.Write(MemoryMarshal.AsBytes(vector.AsSpan()));
        }

        _cached += vectors.Length;
        _cache.Seek(0, SeekOrigin.Begin);
        _cache.Write(BitConverter.GetBytes(_cached));
        _cache.Flush();
    }
}
