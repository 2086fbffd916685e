using Heimdex.Shared.Images;
using SkiaSharp;

namespace Heimdex.Shared.Faces;

/// <summary>An image as tightly packed 8-bit RGB, what the face models read.</summary>
public sealed class RgbImage
{
    private RgbImage(int width, int height, byte[] pixels) => (Width, Height, Pixels) = (width, height, pixels);

    public int Width { get; }

    public int Height { get; }

    public byte[] Pixels { get; }

    /// <summary>Decodes JPEG, PNG or WebP, applying the EXIF orientation, and scales it down so its longer side is at most <paramref name="maxSide"/>.</summary>
    public static RgbImage Decode(SKCodec codec, int maxSide = int.MaxValue)
    {
        using var decoded = ImageDecoding.Decode(codec, maxSide);
        using var upright = Orient(decoded, codec.EncodedOrigin);
        var scale = Math.Min(1.0, (double)maxSide / Math.Max(upright.Width, upright.Height));
        var (width, height) = (Math.Max(1, (int)Math.Round(upright.Width * scale)), Math.Max(1, (int)Math.Round(upright.Height * scale)));
        using var sized = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (!upright.ScalePixels(sized, new SKSamplingOptions(SKCubicResampler.Mitchell)))
        {
            throw new InvalidDataException("the image could not be scaled.");
        }

        var rgba = sized.GetPixelSpan();
        var rgb = new byte[width * height * 3];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            (rgb[i], rgb[i + 1], rgb[i + 2]) = (rgba[j], rgba[j + 1], rgba[j + 2]);
        }

        return new RgbImage(width, height, rgb);
    }

    /// <summary>Whether an image stored with this EXIF orientation is turned a quarter, its width and height swapped when upright.</summary>
    public static bool IsSideways(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    private static SKBitmap Orient(SKBitmap bitmap, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or SKEncodedOrigin.Default)
        {
            return bitmap.Copy();
        }

        var swap = IsSideways(origin);
        var rotated = new SKBitmap(swap ? bitmap.Height : bitmap.Width, swap ? bitmap.Width : bitmap.Height);
        using var canvas = new SKCanvas(rotated);
        canvas.SetMatrix(origin switch
        {
            SKEncodedOrigin.TopRight => SKMatrix.CreateScale(-1, 1, bitmap.Width / 2f, 0),
            SKEncodedOrigin.BottomRight => SKMatrix.CreateRotationDegrees(180, bitmap.Width / 2f, bitmap.Height / 2f),
            SKEncodedOrigin.BottomLeft => SKMatrix.CreateScale(1, -1, 0, bitmap.Height / 2f),
            SKEncodedOrigin.RightTop => SKMatrix.CreateTranslation(bitmap.Height, 0).PreConcat(SKMatrix.CreateRotationDegrees(90)),
            SKEncodedOrigin.LeftBottom => SKMatrix.CreateTranslation(0, bitmap.Width).PreConcat(SKMatrix.CreateRotationDegrees(270)),
            SKEncodedOrigin.LeftTop => SKMatrix.CreateRotationDegrees(90).PostConcat(SKMatrix.CreateScale(-1, 1)).PostConcat(SKMatrix.CreateTranslation(bitmap.Height, 0)),
            _ => SKMatrix.CreateRotationDegrees(270).PostConcat(SKMatrix.CreateScale(-1, 1)).PostConcat(SKMatrix.CreateTranslation(0, bitmap.Width)),
        });
        using var source = SKImage.FromBitmap(bitmap);
        canvas.DrawImage(source, 0, 0, new SKSamplingOptions(SKFilterMode.Linear));
        return rotated;
    }

    /// <summary>Bilinear sample of one channel at a real-valued position; outside the image is black.</summary>
    public float Sample(float x, float y, int channel)
    {
        var (x0, y0) = ((int)MathF.Floor(x), (int)MathF.Floor(y));
        var (fx, fy) = (x - x0, y - y0);
        return (1 - fy) * ((1 - fx) * At(x0, y0, channel) + fx * At(x0 + 1, y0, channel))
               + fy * ((1 - fx) * At(x0, y0 + 1, channel) + fx * At(x0 + 1, y0 + 1, channel));
    }

    private float At(int x, int y, int channel) =>
        x < 0 || y < 0 || x >= Width || y >= Height ? 0 : Pixels[(y * Width + x) * 3 + channel];
}
