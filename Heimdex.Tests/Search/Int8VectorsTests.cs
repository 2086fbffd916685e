using Heimdex.Search.Indexes;

namespace Heimdex.Tests.Search;

public sealed class Int8VectorsTests
{
    [Theory]
    [InlineData(384)]
    [InlineData(37)]
    public void Each_component_is_coded_as_rounding_it_alone_codes_it_halves_to_even_and_beyond_one_clamped(int dimensions)
    {
        var random = new Random(dimensions);
        for (var vector = 0; vector < 200; vector++)
        {
            // Components past ±1 (clamped) and exactly halfway between two codes (to even) among the ordinary ones.
            var floats = Enumerable.Range(0, dimensions).Select(_ => random.Next(4) switch
            {
                0 => (random.Next(-127, 127) + 0.5f) / 127,
                1 => (float)(random.NextDouble() * 3 - 1.5),
                _ => (float)(random.NextDouble() * 2 - 1),
            }).ToArray();
            var coded = new sbyte[dimensions];
            Int8Vectors.Quantize(floats, coded);
            Assert.Equal(floats.Select(x => (sbyte)Math.Clamp(MathF.Round(x * 127), -127, 127)), coded);
        }
    }
}
