using SkiaSharp;

namespace Heimdex.Shared.Images;

/// <summary>An image whose header declares more pixels than Heimdex decodes: the input is at fault, as with an unreadable one.</summary>
public sealed class ImageTooLargeException(string message) : Exception(message);

/// <summary>
/// Images are judged by their header before a pixel is decoded: a small file can declare 30,000 × 30,000 pixels and
/// cost gigabytes once decoded. Past <see cref="MaxPixels"/> an image is refused; below it, it is decoded at the
/// smallest scale its format can decode directly (JPEG: 1/2, 1/4, 1/8) that still serves the reader.
/// </summary>
public static class ImageDecoding
{
    /// <summary>More than any camera's photo; at most about 400 MB while decoded at full size.</summary>
    public const long MaxPixels = 100_000_000;

    public static SKCodec Open(SKData encoded)
    {
        var codec = SKCodec.Create(encoded) ?? throw new InvalidDataException("it is not an image that can be decoded (JPEG, PNG or WebP).");
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if ((long)width * height > MaxPixels)
        {
            codec.Dispose();
            throw new ImageTooLargeException($"the image declares {width} × {height} pixels; at most {MaxPixels / 1_000_000} megapixels are read.");
        }

        return codec;
    }

    /// <summary>Decodes the image with its longer side at least <paramref name="minSide"/> (or its own, if smaller), as cheaply as its format allows.</summary>
    public static SKBitmap Decode(SKCodec codec, int minSide)
    {
        var full = codec.Info;
        var needed = Math.Min(minSide, Math.Max(full.Width, full.Height));
        // JPEG decoders scale by eighths; other formats answer their full size to every scale.
        var size = Enumerable.Range(1, 8).Select(eighths => codec.GetScaledDimensions(eighths / 8f))
            .First(scaled => Math.Max(scaled.Width, scaled.Height) >= needed || scaled == full.Size);

        var info = new SKImageInfo(size.Width, size.Height, SKImageInfo.PlatformColorType, full.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Premul);
        return SKBitmap.Decode(codec, info) ?? throw new InvalidDataException("the image data is damaged and could not be decoded.");
    }
}
