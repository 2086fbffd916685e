using System.Numerics.Tensors;
using Heimdex.Conventions;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;

namespace Heimdex.Tests.Embeddings;

public sealed class SentenceEncoderTests
{
    private static readonly Lazy<SentenceEncoder> Encoder = new(() => SentenceEncoder.Load(new ModelOptions()));

    [Theory]
    [InlineData("It's so sunny outside!", 0.666)]
    [InlineData("He drove to the stadium.", 0.105)]
    public void Reproduces_the_published_sentence_transformers_similarities(string other, double published)
    {
        var cosine = TensorPrimitives.Dot(Encoder.Value.Embed("The weather is lovely today."), Encoder.Value.Embed(other));

        Assert.Equal(published, Math.Round(cosine, 3));
    }

    [Fact]
    public void Embeddings_are_unit_length_and_stable_for_long_text()
    {
        var longText = string.Join(' ', Enumerable.Repeat("gradient descent with momentum converges faster", 100));

        var embedding = Encoder.Value.Embed(longText);

        Assert.Equal(SentenceEncoder.Dimensions, embedding.Length);
        Assert.Equal(1, TensorPrimitives.Norm(embedding), 3);
        Assert.Equal(embedding, Encoder.Value.Embed(longText));
    }

    [Fact]
    public void A_missing_model_is_reported_with_how_to_install_it()
    {
        var error = Assert.Throws<ModelMissingException>(() => SentenceEncoder.Load(new ModelOptions { CacheDirectory = "/nonexistent/models" }));

        Assert.Contains(ModelPackage.MiniLm.Spec, error.Message);
        Assert.Contains("--install", error.Message);
    }
}
