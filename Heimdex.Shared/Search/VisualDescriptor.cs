using Heimdex.Shared.Images;
using SkiaSharp;

namespace Heimdex.Shared.Search;

/// <summary>
/// What a picture looks like, coarsely: the low-frequency 2-D DCT of a 32×32 grey thumbnail (the first 8×8
/// coefficients without the DC term), centred and unit length. Resizing, recompression and small colour changes
/// barely move it, so the same or a near-duplicate frame has cosine similarity near 1 while other pictures do not.
/// </summary>
public static class VisualDescriptor
{
    public const string Space = "image:dct32-v1";

    public const int Dimensions = 63;

    /// <summary>Descriptors are computed from a Size×Size grey picture (stretched, not cropped).</summary>
    public const int Size = 32;
    private const int Kept = 8;

    /// <summary>Images are decoded at least this large before they are scaled to Size×Size, so the scaling still averages.</summary>
    private const int DecodedSide = 256;

    private static readonly double[,] Cosines = BuildCosines();

    /// <summary>The descriptor of an image file (JPEG, PNG, WebP) or an image in memory.</summary>
    public static float[] Compute(SKData encoded)
    {
        using var codec = ImageDecoding.Open(encoded);
        using var image = ImageDecoding.Decode(codec, DecodedSide);
        using var small = image.Resize(new SKImageInfo(Size, Size, SKColorType.Gray8, SKAlphaType.Opaque), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
            ?? throw new InvalidDataException("the image cannot be scaled.");
        return FromGrey(small.GetPixelSpan());
    }

    /// <summary>The descriptor of a picture already scaled to Size×Size grey, one byte per pixel (as ffmpeg writes with format=gray).</summary>
    public static float[] FromGrey(ReadOnlySpan<byte> pixels)
    {
        var descriptor = new float[Dimensions];
        var i = 0;
        for (var u = 0; u < Kept; u++)
        {
            for (var v = 0; v < Kept; v++)
            {
                if (u == 0 && v == 0)
                {
                    continue; // overall brightness says little about content
                }

                double sum = 0;
                for (var y = 0; y < Size; y++)
                {
                    for (var x = 0; x < Size; x++)
                    {
                        sum += pixels[y * Size + x] * Cosines[u, y] * Cosines[v, x];
                    }
                }

                descriptor[i++] = (float)sum;
            }
        }

        var mean = descriptor.Average();
        for (var k = 0; k < descriptor.Length; k++)
        {
            descriptor[k] -= mean;
        }

        var norm = System.Numerics.Tensors.TensorPrimitives.Norm(descriptor);
        System.Numerics.Tensors.TensorPrimitives.Divide(descriptor, norm > 0 ? norm : 1, descriptor);
        return descriptor;
    }

    private static double[,] BuildCosines()
    {
        var cosines = new double[Kept, Size];
        for (var u = 0; u < Kept; u++)
        {
            for (var x = 0; x < Size; x++)
            {
                cosines[u, x] = Math.Cos((2 * x + 1) * u * Math.PI / (2 * Size));
            }
        }

        return cosines;
    }
}
