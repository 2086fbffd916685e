using Heimdex.Shared.Images;
using Heimdex.Shared.Search;
using Heimdex.Tests.Pipeline;
using SkiaSharp;

namespace Heimdex.Tests.Search;

public sealed class ImageDecodingTests
{
    [Fact]
    public async Task A_small_file_declaring_a_huge_picture_is_refused_from_its_header()
    {
        var bomb = await MediaFactory.PngDeclaringAsync(30_000, 30_000);
        Assert.True(new FileInfo(bomb).Length < 100_000);
        using var data = SKData.Create(bomb);

        var refused = Assert.Throws<ImageTooLargeException>(() => ImageDecoding.Open(data));
        Assert.Throws<ImageTooLargeException>(() => VisualDescriptor.Compute(data));

        Assert.Contains("30000 × 30000 pixels", refused.Message);
    }

    [Fact]
    public async Task A_large_jpeg_is_decoded_at_the_smallest_scale_that_still_serves()
    {
        var photo = Path.Combine(Path.GetTempPath(), $"heimdex-large-{Guid.NewGuid():N}.jpg");
        var (exitCode, output) = await TestFiles.RunAsync("ffmpeg", Path.GetTempPath(),
            "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=4000x3000", "-frames:v", "1", "-y", photo);
        Assert.True(exitCode == 0, output);
        using var data = SKData.Create(photo);
        using var codec = ImageDecoding.Open(data);

        using var forDescriptor = ImageDecoding.Decode(codec, 256);
        using var forFaces = ImageDecoding.Decode(codec, 640);
        using var whole = ImageDecoding.Decode(codec, 10_000);

        Assert.Equal((500, 375), (forDescriptor.Width, forDescriptor.Height)); // 1/8, the JPEG decoder's own scaling
        Assert.Equal((1000, 750), (forFaces.Width, forFaces.Height));          // 1/4: 1/8 would be smaller than asked
        Assert.Equal((4000, 3000), (whole.Width, whole.Height));
    }
}
