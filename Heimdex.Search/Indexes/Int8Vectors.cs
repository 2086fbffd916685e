using System.Runtime.Intrinsics;

namespace Heimdex.Search.Indexes;

/// <summary>
/// Unit vectors at 8 bits per component (a quarter of their floats), for scanning many in memory: the scan's best are
/// then re-ranked by their exact floats, so the rounding only decides which candidates are looked at again.
/// </summary>
public static class Int8Vectors
{
    private const float Scale = 127;

    public static void Quantize(ReadOnlySpan<float> vector, Span<sbyte> into)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(into.Length, vector.Length, nameof(into));
        var i = 0;
        // 32 components at a time, rounded half to even as MathF.Round rounds the rest, so either way codes a vector
        // alike: loading a million vectors took 4 s of rounding one component at a time.
        static Vector256<int> Whole(ReadOnlySpan<float> eight) =>
            Vector256.ConvertToInt32(Vector256.Clamp(Vector256.Round(Vector256.Create(eight) * Scale), Vector256.Create(-Scale), Vector256.Create(Scale)));
        for (; i + Vector256<sbyte>.Count <= vector.Length; i += Vector256<sbyte>.Count)
        {
            var shorts = (Vector256.Narrow(Whole(vector[i..]), Whole(vector[(i + 8)..])), Vector256.Narrow(Whole(vector[(i + 16)..]), Whole(vector[(i + 24)..])));
            Vector256.Narrow(shorts.Item1, shorts.Item2).CopyTo(into[i..]);
        }

        for (; i < vector.Length; i++)
        {
            into[i] = (sbyte)Math.Clamp(MathF.Round(vector[i] * Scale), -Scale, Scale);
        }
    }

    /// <summary>The cosine of two quantised unit vectors, approximately.</summary>
    public static float Similarity(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => Dot(a, b) / (Scale * Scale);

    private static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        var sum = Vector256<int>.Zero;
        var i = 0;
        // Products of two components (at most 127²) fit 16 bits; their sums are taken in 32.
        for (; i + Vector256<sbyte>.Count <= a.Length; i += Vector256<sbyte>.Count)
        {
            var (aLow, aHigh) = Vector256.Widen(Vector256.Create(a[i..]));
            var (bLow, bHigh) = Vector256.Widen(Vector256.Create(b[i..]));
            var (p0, p1) = Vector256.Widen(aLow * bLow);
            var (p2, p3) = Vector256.Widen(aHigh * bHigh);
            sum += p0 + p1 + p2 + p3;
        }

        var total = Vector256.Sum(sum);
        for (; i < a.Length; i++)
        {
            total += a[i] * b[i];
        }

        return total;
    }
}
