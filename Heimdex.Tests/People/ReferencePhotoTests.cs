using Heimdex.Shared.People;
using Heimdex.Shared.Models;
using Heimdex.Tests.Pipeline;
using Heimdex.Shared.Faces;
using Heimdex.Worker.People;

namespace Heimdex.Tests.People;

/// <summary>Which reference photos can stand for a person, judged on real photos.</summary>
public sealed class ReferencePhotoTests
{
    private static readonly Lazy<FaceAnalyzer> Analyzer = new(() => new FaceAnalyzer(new ModelOptions()));
    private static readonly PeopleOptions Options = new();

    private static (AnalyzedFace? Subject, string? Problem) Judge(string path) => FaceMatching.ChooseSubject(Analyzer.Value.Analyze(path), Options);

    [Theory]
    [InlineData("obama_1.jpg")]
    [InlineData("obama_2.jpg")]
    [InlineData("biden_2.jpg")] // the painting's face is not one
    public void A_portrait_is_a_reference_photo(string file)
    {
        var (subject, problem) = Judge(TestFiles.SharedMedia("faces", file));

        Assert.Null(problem);
        Assert.NotNull(subject);
    }

    [Fact]
    public void A_group_photo_has_no_clear_subject()
    {
        var (subject, problem) = Judge(TestFiles.SharedMedia("faces", "obama_and_biden.jpg"));

        Assert.Null(subject);
        Assert.Equal("the photo shows 3 faces and none is clearly the subject; use a photo where this person's face is the largest", problem);
    }

    [Fact]
    public async Task A_picture_without_a_face_says_so()
    {
        var (subject, problem) = Judge(await MediaFactory.TextImageAsync("Quarterly results"));

        Assert.Null(subject);
        Assert.Equal("no face was found in the photo", problem);
    }

    [Fact]
    public void A_tiny_face_is_too_small()
    {
        var tiny = Path.Combine(Directory.CreateTempSubdirectory("heimdex-people-").FullName, "tiny.png");
        using (var photo = SkiaSharp.SKBitmap.Decode(TestFiles.SharedMedia("faces", "obama_1.jpg")))
        using (var small = photo.Resize(new SkiaSharp.SKImageInfo(photo.Width / 8, photo.Height / 8), new SkiaSharp.SKSamplingOptions(SkiaSharp.SKFilterMode.Linear)))
        using (var file = File.Create(tiny))
        {
            small.Encode(file, SkiaSharp.SKEncodedImageFormat.Png, 100);
        }

        var (subject, problem) = FaceMatching.ChooseSubject(Analyzer.Value.Analyze(tiny, new FaceDetector.Settings(MinScore: 0.5f)), Options);

        Assert.Null(subject);
        Assert.StartsWith("the face is too small", problem);
    }

    [Fact]
    public void A_blurred_face_is_too_blurred()
    {
        var blurred = Path.Combine(Directory.CreateTempSubdirectory("heimdex-people-").FullName, "blurred.jpg");
        using (var photo = SkiaSharp.SKBitmap.Decode(TestFiles.SharedMedia("faces", "obama_1.jpg")))
        using (var surface = SkiaSharp.SKSurface.Create(new SkiaSharp.SKImageInfo(photo.Width, photo.Height)))
        using (var blur = new SkiaSharp.SKPaint { ImageFilter = SkiaSharp.SKImageFilter.CreateBlur(12, 12) })
        using (var image = SkiaSharp.SKImage.FromBitmap(photo))
        {
            surface.Canvas.DrawImage(image, 0, 0, new SkiaSharp.SKSamplingOptions(SkiaSharp.SKFilterMode.Linear), blur);
            using var file = File.Create(blurred);
            surface.Snapshot().Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 90).SaveTo(file);
        }

        var faces = Analyzer.Value.Analyze(blurred, new FaceDetector.Settings(MinScore: 0.3f));
        var (subject, problem) = FaceMatching.ChooseSubject(faces, Options);

        Assert.Null(subject);
        Assert.True(problem is "the face is too blurred to recognise; use a sharper photo",
            $"{problem} (sharpness {string.Join(", ", faces.Select(f => f.Sharpness.ToString("0.0000")))})");
    }
}
