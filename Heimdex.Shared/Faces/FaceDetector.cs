using Heimdex.Shared.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Heimdex.Shared.Faces;

/// <summary>A face's box and its five landmarks (eyes, nose tip, mouth corners — left to right in the image), in image pixels.</summary>
public sealed record DetectedFace(float X, float Y, float Width, float Height, float[] Landmarks, float Score);

/// <summary>
/// YuNet (OpenCV Zoo, MIT; shipped with Heimdex) over the whole image: anchor-free outputs at strides 8, 16 and 32,
/// decoded as OpenCV's FaceDetectorYN does, then non-maximum suppression.
/// </summary>
public sealed class FaceDetector : IDisposable
{
    public static string ModelPath => Path.Combine(AppContext.BaseDirectory, "Faces", "Models", "face_detection_yunet.onnx");

    private static readonly int[] Strides = [8, 16, 32];
    private readonly OnnxModel _model;

    public FaceDetector(ModelOptions options)
    {
        if (!File.Exists(ModelPath))
        {
            throw new FileNotFoundException($"the face detector {ModelPath} is missing from the worker's build output.", ModelPath);
        }

        _model = OnnxSessions.Create(ModelPath, options);
    }

    public sealed record Settings(float MinScore = 0.8f, float NmsOverlap = 0.3f);

    public IReadOnlyList<DetectedFace> Detect(RgbImage image, Settings settings)
    {
        var (width, height) = ((image.Width + 31) / 32 * 32, (image.Height + 31) / 32 * 32);
        var input = new DenseTensor<float>([1, 3, height, width]);
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                var pixel = (y * image.Width + x) * 3;
                // YuNet reads BGR in 0–255.
                input[0, 0, y, x] = image.Pixels[pixel + 2];
                input[0, 1, y, x] = image.Pixels[pixel + 1];
                input[0, 2, y, x] = image.Pixels[pixel];
            }
        }

        using var outputs = _model.Session.Run([NamedOnnxValue.CreateFromTensor(_model.Session.InputNames[0], input)]);
        var byName = outputs.ToDictionary(o => o.Name, o => o.AsTensor<float>().ToArray());
        var candidates = new List<DetectedFace>();
        foreach (var stride in Strides)
        {
            var (cls, obj, box, kps) = (byName[$"cls_{stride}"], byName[$"obj_{stride}"], byName[$"bbox_{stride}"], byName[$"kps_{stride}"]);
            var columns = width / stride;
            for (var i = 0; i < cls.Length; i++)
            {
                var score = MathF.Sqrt(Math.Clamp(cls[i], 0, 1) * Math.Clamp(obj[i], 0, 1));
                if (score < settings.MinScore)
                {
                    continue;
                }

                var (column, row) = (i % columns, i / columns);
                var (centerX, centerY) = ((column + box[i * 4]) * stride, (row + box[i * 4 + 1]) * stride);
                var (w, h) = (MathF.Exp(box[i * 4 + 2]) * stride, MathF.Exp(box[i * 4 + 3]) * stride);
                var landmarks = new float[10];
                for (var point = 0; point < 5; point++)
                {
                    landmarks[point * 2] = (column + kps[i * 10 + point * 2]) * stride;
                    landmarks[point * 2 + 1] = (row + kps[i * 10 + point * 2 + 1]) * stride;
                }

                candidates.Add(new DetectedFace(centerX - w / 2, centerY - h / 2, w, h, landmarks, score));
            }
        }

        var kept = new List<DetectedFace>();
        foreach (var face in candidates.OrderByDescending(f => f.Score))
        {
            if (kept.All(other => Overlap(face, other) <= settings.NmsOverlap))
            {
                kept.Add(face);
            }
        }

        return kept;
    }

    private static float Overlap(DetectedFace a, DetectedFace b)
    {
        var w = Math.Max(0, Math.Min(a.X + a.Width, b.X + b.Width) - Math.Max(a.X, b.X));
        var h = Math.Max(0, Math.Min(a.Y + a.Height, b.Y + b.Height) - Math.Max(a.Y, b.Y));
        var intersection = w * h;
        return intersection / (a.Width * a.Height + b.Width * b.Height - intersection);
    }

    /// <summary>The execution provider the model runs on.</summary>
    public string Provider => _model.Provider;

    public void Dispose() => _model.Dispose();
}
