namespace Heimdex.Bench;

/// <summary>
/// English-like text for synthetic scenes: pseudo-words built from syllables, drawn with Zipf frequencies (a few words
/// everywhere, most words rare) as in speech and slides, so full-text and trigram matching see realistic selectivity.
/// </summary>
public sealed class SyntheticText
{
    private static readonly string[] Onsets = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "ch", "cl", "dr", "fl", "gr", "pl", "pr", "sh", "st", "th", "tr"];
    private static readonly string[] Vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou"];
    private static readonly string[] Codas = ["", "", "n", "r", "s", "t", "l", "m", "nd", "st"];

    private readonly string[] _words;
    private readonly double[] _cumulative;
    private readonly Random _random;

    /// <summary>The vocabulary of <paramref name="seed"/>; sentences and words drawn by <paramref name="samplingSeed"/> (the same seed by default).</summary>
    public SyntheticText(int seed, int vocabulary = 20_000, int? samplingSeed = null)
    {
        _random = new Random(seed);
        var words = new HashSet<string>();
        while (words.Count < vocabulary)
        {
            var syllables = _random.Next(1, 4);
            words.Add(string.Concat(Enumerable.Range(0, syllables).Select(_ => Pick(Onsets) + Pick(Vowels) + Pick(Codas))));
        }

        _words = [.. words];
        _cumulative = new double[vocabulary];
        var sum = 0.0;
        for (var rank = 0; rank < vocabulary; rank++)
        {
            _cumulative[rank] = sum += 1.0 / (rank + 1);
        }

        if (samplingSeed is { } sampling)
        {
            _random = new Random(sampling);
        }
    }

    /// <summary>The word of this frequency rank (0 is the most frequent).</summary>
    public string Word(int rank) => _words[rank];

    public string Sentence(int words) => string.Join(' ', Enumerable.Range(0, words).Select(_ => _words[SampleRank()]));

    /// <summary>A word of middling frequency, the kind people search for: common enough to be in many scenes, not in most.</summary>
    public string SearchWord() => _words[_random.Next(50, 3000)];

    /// <summary>The word with one letter replaced by another, as a typing slip.</summary>
    public string Misspelled(string word)
    {
        var letters = word.ToCharArray();
        var at = _random.Next(1, Math.Max(2, letters.Length - 1));
        letters[at] = (char)('a' + (letters[at] - 'a' + _random.Next(1, 26)) % 26);
        return new string(letters);
    }

    private int SampleRank()
    {
        var index = Array.BinarySearch(_cumulative, _random.NextDouble() * _cumulative[^1]);
        return Math.Min(index < 0 ? ~index : index, _cumulative.Length - 1);
    }

    private string Pick(string[] parts) => parts[_random.Next(parts.Length)];
}
