using Heimdex.Shared.Images;
using Heimdex.Shared.Models;
using SkiaSharp;

namespace Heimdex.Shared.Faces;

/// <summary>A face found in an image: where, how sure, how usable for recognition (0–1) and its embedding.</summary>
public sealed record AnalyzedFace(DetectedFace Detection, float Sharpness, float Quality, float[] Embedding);

/// <summary>Every face in an image, detected, aligned, measured and embedded. Loaded once per worker; thread-safe.</summary>
public sealed class FaceAnalyzer(ModelOptions options) : IDisposable
{
    /// <summary>Photos and frames are analysed at this size: faces of 40 px and more in a 1280-px frame are found.</summary>
    public const int WorkingSize = 1280;

    /// <summary>Cosine similarity above which two faces are taken to be the same person (measured on the shared photos: same ≥ 0.51, different ≤ 0.27).</summary>
    public const float DefaultMatchThreshold = 0.4f;

    /// <summary>Below this many pixels across, a face carries too little detail for recognition.</summary>
    public const float GoodFaceSize = 80;

    /// <summary>Laplacian variance of an aligned face above which it counts as sharp.</summary>
    public const float GoodSharpness = 0.02f;

    private readonly FaceDetector _detector = new(options);
    private readonly FaceEmbedder _embedder = new(options);

    /// <summary>The execution provider each of its ONNX models runs on.</summary>
    public IReadOnlyDictionary<string, string> Providers => new Dictionary<string, string>
    {
        ["face detector (YuNet)"] = _detector.Provider,
        ["face embedder (fr_feature.onnx)"] = _embedder.Provider,
    };

    public IReadOnlyList<AnalyzedFace> Analyze(string imagePath, FaceDetector.Settings? settings = null)
    {
        using var data = SKData.Create(imagePath) ?? throw new FileNotFoundException($"{imagePath} cannot be read.", imagePath);
        return Analyze(data, settings);
    }

    /// <summary>The faces in an encoded image (JPEG, PNG or WebP), in the image's own pixels; <see cref="InvalidDataException"/> if it is no image.</summary>
    public IReadOnlyList<AnalyzedFace> Analyze(SKData encoded, FaceDetector.Settings? settings = null)
    {
        using var codec = ImageDecoding.Open(encoded);
        var image = RgbImage.Decode(codec, WorkingSize);
        // Faces are reported in the pixels of the upright original (a portrait phone photo is stored sideways).
        var (uprightWidth, uprightHeight) = RgbImage.IsSideways(codec.EncodedOrigin) ? (codec.Info.Height, codec.Info.Width) : (codec.Info.Width, codec.Info.Height);
        var (toOriginalX, toOriginalY) = ((float)uprightWidth / image.Width, (float)uprightHeight / image.Height);

        return [.. _detector.Detect(image, settings ?? new FaceDetector.Settings()).Select(face =>
        {
            var aligned = FaceEmbedder.Align(image, face.Landmarks);
            var sharpness = Sharpness(aligned);
            var quality = face.Score * Math.Min(1, Math.Min(face.Width, face.Height) * toOriginalX / GoodFaceSize) * Math.Min(1, sharpness / GoodSharpness);
            var original = face with
            {
                X = face.X * toOriginalX,
                Y = face.Y * toOriginalY,
                Width = face.Width * toOriginalX,
                Height = face.Height * toOriginalY,
                Landmarks = [.. face.Landmarks.Select((value, i) => value * (i % 2 == 0 ? toOriginalX : toOriginalY))],
            };
            return new AnalyzedFace(original, sharpness, quality, _embedder.Embed(aligned));
        })];
    }

    /// <summary>Variance of the Laplacian of the aligned face's green channel: blur and upscaling make it small.</summary>
    private static float Sharpness(Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float> aligned)
    {
        var size = aligned.Dimensions[3];
        double sum = 0, sumOfSquares = 0;
        var count = 0;
        for (var y = 1; y < size - 1; y++)
        {
            for (var x = 1; x < size - 1; x++)
            {
                var laplacian = aligned[0, 1, y - 1, x] + aligned[0, 1, y + 1, x] + aligned[0, 1, y, x - 1] + aligned[0, 1, y, x + 1] - 4 * aligned[0, 1, y, x];
                (sum, sumOfSquares, count) = (sum + laplacian, sumOfSquares + laplacian * laplacian, count + 1);
            }
        }

        var mean = sum / count;
        return (float)(sumOfSquares / count - mean * mean);
    }

    public void Dispose()
    {
        _detector.Dispose();
        _embedder.Dispose();
    }
}
