using System.Globalization;
using System.Text.RegularExpressions;

namespace Heimdex.AppHost.Reporting;

/// <summary>A line of a resource's console as DCP keeps it: a UTC timestamp, then the text with the process's colours.</summary>
public sealed partial record ConsoleLine(DateTimeOffset Time, string Text)
{
    public static ConsoleLine Parse(string content)
    {
        var space = content.IndexOf(' ', StringComparison.Ordinal);
        var time = DateTimeOffset.MinValue;
        var stamped = space > 0 && DateTimeOffset.TryParse(content[..space], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
        return new ConsoleLine(time, Colours().Replace(stamped ? content[(space + 1)..] : content, ""));
    }

    [GeneratedRegex(@"\x1B\[[0-9;]*m")]
    private static partial Regex Colours();
}
