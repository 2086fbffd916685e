using System.Numerics.Tensors;
using Heimdex.Shared.Search;
using Heimdex.Tests.Pipeline;

namespace Heimdex.Tests.Search;

public sealed class VisualDescriptorTests
{
    /// <summary>The descriptor of testvideo's frame at <paramref name="seconds"/>, scaled and JPEG-compressed by ffmpeg.</summary>
    private static async Task<float[]> FrameAsync(double seconds, int width, int quality)
    {
        using var data = SkiaSharp.SKData.Create(await MediaFactory.FrameAsync(TestFiles.TestVideo, seconds, width, quality));
        return VisualDescriptor.Compute(data);
    }

    [Fact]
    public async Task A_smaller_recompressed_frame_matches_its_own_scene_and_not_the_others()
    {
        var query = (await FrameAsync(9.9, width: 320, quality: 25));

        var reference = (await FrameAsync(9.5, width: 1280, quality: 2));
        var sameScene = TensorPrimitives.Dot(query, reference);
        var otherScenes = new List<float>();
        foreach (var seconds in new[] { 3.0, 16.0, 20.0 })
        {
            var other = (await FrameAsync(seconds, width: 1280, quality: 2));
            otherScenes.Add(TensorPrimitives.Dot(query, other));
        }

        Assert.True(sameScene > 0.95, $"same scene: {sameScene:0.000}");
        Assert.All(otherScenes, similarity => Assert.True(similarity < 0.5, $"another scene: {similarity:0.000}"));
        Assert.Equal(VisualDescriptor.Dimensions, query.Length);
        Assert.Equal(1, TensorPrimitives.Norm(query), 3);
    }

    [Fact]
    public void Bytes_that_are_not_an_image_are_refused()
    {
        using var data = SkiaSharp.SKData.CreateCopy("not an image"u8.ToArray());

        Assert.Throws<InvalidDataException>(() => VisualDescriptor.Compute(data));
    }
}
