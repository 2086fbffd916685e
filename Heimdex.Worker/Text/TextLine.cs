namespace Heimdex.Worker.Text;

/// <summary>A line of text read from an image, with Tesseract's confidence (0–1).</summary>
public sealed record TextLine(string Text, double Confidence)
{
    /// <summary>Lines Tesseract is less sure of are mostly texture read as letters.</summary>
    public const double MinConfidence = 0.6;

    /// <summary>
    /// A line worth storing: read with confidence, holding a word (three letters in a row), and mostly letters and
    /// digits — "~ ee" or "(Go" is texture or an edge read as letters.
    /// </summary>
    public bool IsText
    {
        get
        {
            var visible = Text.Count(c => !char.IsWhiteSpace(c));
            return Confidence >= MinConfidence
                   && Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Any(word => LongestLetterRun(word) >= 3)
                   && Text.Count(char.IsLetterOrDigit) * 3 >= visible * 2;
        }
    }

    /// <summary>Case, spacing and punctuation vary between reads of the same line; the letters and digits do not.</summary>
    public string Key => string.Concat(Text.Where(char.IsLetterOrDigit)).ToLowerInvariant();

    private static int LongestLetterRun(string word)
    {
        int longest = 0, run = 0;
        foreach (var c in word)
        {
            run = char.IsLetter(c) ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return longest;
    }
}
