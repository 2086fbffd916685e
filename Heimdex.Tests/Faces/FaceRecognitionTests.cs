using System.Numerics.Tensors;
using Heimdex.Shared.Models;
using Heimdex.Shared.Faces;

namespace Heimdex.Tests.Faces;

/// <summary>The faces matrix of ../shared/media/faces (LABELS.md).</summary>
public sealed class FaceRecognitionTests
{
    private static readonly Lazy<FaceAnalyzer> Analyzer = new(() => new FaceAnalyzer(new ModelOptions()));

    /// <summary>Who is in each photo, left to right, with the x of each face's centre in the original photo.</summary>
    private static readonly (string File, (string Person, float CenterX)[] Faces)[] Labels =
    [
        ("obama_1.jpg", [("obama", float.NaN)]),
        ("obama_2.jpg", [("obama", float.NaN)]),
        ("obama_3.jpg", [("obama", float.NaN)]),
        ("obama_4.jpg", [("obama", float.NaN)]),
        ("biden_1.jpg", [("biden", float.NaN)]),
        ("biden_2.jpg", [("biden", float.NaN)]), // the painting at the left is not a face
        ("obama_and_biden.jpg", [("biden", 760), ("obama", 1140), ("child", 1630)]),
    ];

    private static readonly Lazy<List<(string File, string Person, AnalyzedFace Face)>> Found = new(() =>
        [.. Labels.SelectMany(label =>
        {
            var faces = Analyzer.Value.Analyze(TestFiles.SharedMedia("faces", label.File)).OrderBy(f => f.Detection.X).ToList();
            Assert.True(faces.Count == label.Faces.Length, $"{label.File}: found {faces.Count} faces, labelled {label.Faces.Length}");
            return faces.Zip(label.Faces, (face, labelled) => (label.File, labelled.Person, face));
        })]);

    [Fact]
    public void Every_labelled_face_is_found_where_it_is_and_nothing_else()
    {
        Assert.Equal(Labels.Sum(l => l.Faces.Length), Found.Value.Count);
        foreach (var (file, faces) in Labels)
        {
            foreach (var (labelled, (_, _, face)) in faces.Zip(Found.Value.Where(f => f.File == file)))
            {
                if (!float.IsNaN(labelled.CenterX))
                {
                    Assert.InRange(face.Detection.X + face.Detection.Width / 2, labelled.CenterX - 120, labelled.CenterX + 120);
                }

                Assert.Equal(10, face.Detection.Landmarks.Length);
                Assert.Equal(FaceEmbedder.Dimensions, face.Embedding.Length);
                Assert.InRange(face.Quality, 0.3f, 1f);
            }
        }
    }

    [Fact]
    public void Same_person_pairs_are_above_the_threshold_and_different_person_pairs_below()
    {
        var faces = Found.Value;
        for (var i = 0; i < faces.Count; i++)
        {
            for (var j = i + 1; j < faces.Count; j++)
            {
                var similarity = TensorPrimitives.Dot(faces[i].Face.Embedding, faces[j].Face.Embedding);
                var pair = $"{faces[i].File}/{faces[i].Person} vs {faces[j].File}/{faces[j].Person}: {similarity:0.000}";
                if (faces[i].Person == faces[j].Person)
                {
                    Assert.True(similarity > FaceAnalyzer.DefaultMatchThreshold, pair);
                }
                else
                {
                    Assert.True(similarity < FaceAnalyzer.DefaultMatchThreshold, pair);
                }
            }
        }
    }

    [Fact]
    public void A_blurred_small_copy_of_a_face_has_lower_quality()
    {
        var original = Found.Value.First(f => f.File == "obama_1.jpg").Face;
        var small = Path.Combine(Directory.CreateTempSubdirectory("heimdex-faces-").FullName, "small.jpg");
        using (var bitmap = SkiaSharp.SKBitmap.Decode(TestFiles.SharedMedia("faces", "obama_1.jpg")))
        using (var tiny = bitmap.Resize(new SkiaSharp.SKImageInfo(bitmap.Width / 8, bitmap.Height / 8), new SkiaSharp.SKSamplingOptions(SkiaSharp.SKFilterMode.Linear)))
        using (var back = tiny.Resize(new SkiaSharp.SKImageInfo(bitmap.Width / 2, bitmap.Height / 2), new SkiaSharp.SKSamplingOptions(SkiaSharp.SKFilterMode.Linear)))
        using (var file = File.Create(small))
        {
            back.Encode(file, SkiaSharp.SKEncodedImageFormat.Jpeg, 90);
        }

        var blurred = Assert.Single(Analyzer.Value.Analyze(small, new FaceDetector.Settings(MinScore: 0.5f)));

        Assert.True(blurred.Quality < original.Quality / 2, $"blurred {blurred.Quality:0.000} (sharpness {blurred.Sharpness:0.0000}) vs original {original.Quality:0.000} (sharpness {original.Sharpness:0.0000})");
    }
}
