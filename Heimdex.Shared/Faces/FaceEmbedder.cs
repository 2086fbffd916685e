using Heimdex.Conventions;
using System.Numerics.Tensors;
using Heimdex.Shared.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Heimdex.Shared.Faces;

/// <summary>
/// 512-d face embeddings from fr_feature.onnx (npm faceplugin-face-recognition-js): the face is warped onto the
/// standard 112×112 five-point template with the least-squares similarity transform, scaled to (x − 127) / 128.
/// Embeddings are unit length, so cosine similarity is their dot product.
/// </summary>
public sealed class FaceEmbedder : IDisposable
{
    public const int Dimensions = 512;
    private const int Size = 112;

    /// <summary>Where the eyes, nose tip and mouth corners sit in an aligned 112×112 face (the ArcFace template).</summary>
    private static readonly float[] Template = [38.2946f, 51.6963f, 73.5318f, 51.5014f, 56.0252f, 71.7366f, 41.5493f, 92.3655f, 70.7299f, 92.2041f];

    private readonly OnnxModel _model;

    public FaceEmbedder(ModelOptions options) =>
        _model = OnnxSessions.Create(options.RequireFile(ModelPackage.FaceRecognition, "package/model/fr_feature.onnx"), options);

    public float[] Embed(RgbImage image, float[] landmarks) => Embed(Align(image, landmarks));

    public float[] Embed(DenseTensor<float> aligned)
    {
        using var outputs = _model.Session.Run([NamedOnnxValue.CreateFromTensor(_model.Session.InputNames[0], aligned)]);
        var embedding = outputs[0].AsTensor<float>().ToArray();
        TensorPrimitives.Divide(embedding, TensorPrimitives.Norm(embedding), embedding);
        return embedding;
    }

    /// <summary>The face warped onto the template as the network's input tensor; also what sharpness is measured on.</summary>
    public static DenseTensor<float> Align(RgbImage image, float[] landmarks)
    {
        var (a, b, tx, ty) = SimilarityToTemplate(landmarks);
        // Inverse of [a −b; b a]·p + t, to pull each template pixel from the source image.
        var determinant = a * a + b * b;
        var tensor = new DenseTensor<float>([1, 3, Size, Size]);
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var (dx, dy) = (x - tx, y - ty);
                var sourceX = (a * dx + b * dy) / determinant;
                var sourceY = (-b * dx + a * dy) / determinant;
                for (var channel = 0; channel < 3; channel++)
                {
                    tensor[0, channel, y, x] = (image.Sample(sourceX, sourceY, channel) - 127f) / 128f;
                }
            }
        }

        return tensor;
    }

    /// <summary>Least-squares scale, rotation and translation taking the landmarks onto the template (Umeyama, in 2-D closed form).</summary>
    private static (float A, float B, float Tx, float Ty) SimilarityToTemplate(float[] landmarks)
    {
        float sourceX = 0, sourceY = 0, targetX = 0, targetY = 0;
        for (var i = 0; i < 5; i++)
        {
            (sourceX, sourceY, targetX, targetY) = (sourceX + landmarks[2 * i] / 5, sourceY + landmarks[2 * i + 1] / 5, targetX + Template[2 * i] / 5, targetY + Template[2 * i + 1] / 5);
        }

        float dot = 0, cross = 0, norm = 0;
        for (var i = 0; i < 5; i++)
        {
            var (sx, sy) = (landmarks[2 * i] - sourceX, landmarks[2 * i + 1] - sourceY);
            var (qx, qy) = (Template[2 * i] - targetX, Template[2 * i + 1] - targetY);
            (dot, cross, norm) = (dot + sx * qx + sy * qy, cross + sx * qy - sy * qx, norm + sx * sx + sy * sy);
        }

        var (a, b) = (dot / norm, cross / norm);
        return (a, b, targetX - (a * sourceX - b * sourceY), targetY - (b * sourceX + a * sourceY));
    }

    /// <summary>The execution provider the model runs on.</summary>
    public string Provider => _model.Provider;

    public void Dispose() => _model.Dispose();
}
