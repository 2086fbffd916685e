using Heimdex.Worker.Text;

namespace Heimdex.Tests.Text;

public sealed class OnScreenTextTests
{
    [Theory]
    [InlineData("Roman roads", 0.9)]
    [InlineData("Copyright © 2013 Brandon Castellano", 0.8)]
    [InlineData("www.bcastell.com", 0.7)]
    [InlineData("3. Aqueducts and bridges", 0.75)]
    public void Lines_of_words_read_with_confidence_are_kept(string text, double confidence) =>
        Assert.True(new TextLine(text, confidence).IsText);

    [Theory]
    [InlineData("~ ee", 0.9)] // no word
    [InlineData("(Go", 0.9)]
    [InlineData("|| ~~ -=- abc", 0.9)] // mostly not letters
    [InlineData("1999 42", 0.9)]
    [InlineData("Roman roads", 0.4)] // unsure
    public void Noise_and_unsure_reads_are_not_stored(string text, double confidence) =>
        Assert.False(new TextLine(text, confidence).IsText);
}
