using System.Globalization;
using System.Text;
using Heimdex.Api.Uploads;

namespace Heimdex.Tests.Uploads;

public sealed class FileNamesTests
{
    [Theory]
    [InlineData("🎬", 4)]          // a surrogate pair
    [InlineData("e\u0301", 3)]     // a letter and its combining accent
    [InlineData("é", 2)]
    public void A_long_name_is_cut_between_whole_characters_within_255_bytes(string character, int bytes)
    {
        var name = string.Concat(Enumerable.Repeat(character, 300)) + ".mp4";

        var cut = FileNames.Sanitize(name);

        Assert.True(Encoding.UTF8.GetByteCount(cut) <= 255);
        Assert.Equal(255 / bytes, new StringInfo(cut).LengthInTextElements);
        Assert.Equal(string.Concat(Enumerable.Repeat(character, 255 / bytes)), cut);
    }

    [Fact]
    public void Paths_control_characters_and_dots_are_removed()
    {
        Assert.Equal("leaf and deer.mp4", FileNames.Sanitize("../../etc/leaf\0 and deer.mp4"));
        Assert.Equal("video", FileNames.Sanitize(".."));
        Assert.Equal("video", FileNames.Sanitize(null));
    }
}
