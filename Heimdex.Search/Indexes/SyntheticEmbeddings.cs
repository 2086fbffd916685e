using System.Numerics.Tensors;

namespace Heimdex.Search.Indexes;

/// <summary>
/// Unit vectors shaped like a library's scene embeddings — topics (random centres) with scenes scattered around
/// them — for measuring the approximate index against the exact scan at sizes no test library reaches.
/// </summary>
public static class SyntheticEmbeddings
{
    /// <summary><paramref name="count"/> vectors after the first <paramref name="skip"/> of the same library (same seed, same topics).</summary>
    public static float[][] Generate(int count, int dimensions, int topics, float spread, int seed, int skip = 0) =>
        [.. Library(dimensions, topics, spread, seed).Skip(skip).Take(count)];

    /// <summary>A library's vectors one after another, without end: for sizes too large to hold twice.</summary>
    public static IEnumerable<float[]> Library(int dimensions, int topics, float spread, int seed)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, topics).Select(_ => Unit(Gaussian(random, dimensions, 1))).ToArray();
        while (true)
        {
            var vector = Gaussian(random, dimensions, spread / MathF.Sqrt(dimensions));
            TensorPrimitives.Add(vector, centres[random.Next(topics)], vector);
            yield return Unit(vector);
        }
    }

    private static float[] Gaussian(Random random, int dimensions, float scale) =>
        [.. Enumerable.Range(0, dimensions).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())) * scale)];

    private static float[] Unit(float[] vector)
    {
        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }
}
