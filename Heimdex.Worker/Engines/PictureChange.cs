namespace Heimdex.Worker.Engines;

/// <summary>
/// How much a picture changed, judged block by block: a change confined to part of the frame (a new line of text on
/// the same background) counts as much as it would if the whole frame changed that way.
/// </summary>
public static class PictureChange
{
    /// <summary>The largest mean absolute change (0–255) of any square block of <paramref name="blockSize"/> pixels between two grey frames.</summary>
    public static double LargestBlockChange(byte[] a, byte[] b, int width, int height, int blockSize) => BlockChanges(a, b, width, height, blockSize).Max();

    /// <summary>The mean absolute change (0–255) of each square block of <paramref name="blockSize"/> pixels, row by row.</summary>
    public static double[] BlockChanges(byte[] a, byte[] b, int width, int height, int blockSize)
    {
        var columns = (width + blockSize - 1) / blockSize;
        var changes = new double[columns * ((height + blockSize - 1) / blockSize)];
        for (var top = 0; top < height; top += blockSize)
        {
            for (var left = 0; left < width; left += blockSize)
            {
                long change = 0;
                var count = 0;
                for (var y = top; y < Math.Min(top + blockSize, height); y++)
                {
                    for (var x = left; x < Math.Min(left + blockSize, width); x++)
                    {
                        change += Math.Abs(a[y * width + x] - b[y * width + x]);
                        count++;
                    }
                }

                changes[top / blockSize * columns + left / blockSize] = (double)change / count;
            }
        }

        return changes;
    }

    /// <summary>A grey frame shrunk to <paramref name="targetWidth"/> (aspect kept) by averaging each output pixel's area.</summary>
    public static byte[] Shrink(byte[] frame, int width, int height, int targetWidth)
    {
        var (outWidth, outHeight) = ShrunkSize(width, height, targetWidth);
        var shrunk = new byte[outWidth * outHeight];
        for (var oy = 0; oy < outHeight; oy++)
        {
            var (top, bottom) = (oy * height / outHeight, Math.Max(oy * height / outHeight + 1, (oy + 1) * height / outHeight));
            for (var ox = 0; ox < outWidth; ox++)
            {
                var (left, right) = (ox * width / outWidth, Math.Max(ox * width / outWidth + 1, (ox + 1) * width / outWidth));
                long sum = 0;
                for (var y = top; y < bottom; y++)
                {
                    for (var x = left; x < right; x++)
                    {
                        sum += frame[y * width + x];
                    }
                }

                shrunk[oy * outWidth + ox] = (byte)(sum / ((bottom - top) * (right - left)));
            }
        }

        return shrunk;
    }

    /// <summary>The size <see cref="Shrink"/> makes: <paramref name="targetWidth"/> wide at most, the aspect kept.</summary>
    public static (int Width, int Height) ShrunkSize(int width, int height, int targetWidth) =>
        (Math.Min(targetWidth, width), Math.Max(1, (int)Math.Round(height * (double)Math.Min(targetWidth, width) / width)));
}
