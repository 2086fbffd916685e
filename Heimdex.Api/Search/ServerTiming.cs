using System.Diagnostics;
using System.Globalization;

namespace Heimdex.Api.Search;

/// <summary>Milliseconds spent in each consecutive part of a request, as a <c>Server-Timing</c> header value (name;dur=ms, …).</summary>
public sealed class ServerTiming
{
    private readonly List<(string Part, double Milliseconds)> _parts = [];
    private long _since = Stopwatch.GetTimestamp();

    /// <summary>Ends the part named <paramref name="part"/>: the time since the previous mark (or since creation).</summary>
    public void Mark(string part)
    {
        var now = Stopwatch.GetTimestamp();
        _parts.Add((part, Stopwatch.GetElapsedTime(_since, now).TotalMilliseconds));
        _since = now;
    }

    public override string ToString() =>
        string.Join(", ", _parts.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Part};dur={p.Milliseconds:0.###}")));
}
