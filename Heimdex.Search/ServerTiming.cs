using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Heimdex.Shared.Telemetry;

namespace Heimdex.Search;

/// <summary>
/// Milliseconds spent in each consecutive part of a search, as a <c>Server-Timing</c> header value (name;dur=ms, …)
/// and as the <c>heimdex.search.duration</c> histogram by part.
/// </summary>
public sealed class ServerTiming
{
    private static readonly Histogram<double> SearchDuration = HeimdexTelemetry.Meter.CreateHistogram<double>(
        "heimdex.search.duration", "ms", "Time spent in each part of a scene search: embed, vectors, rank, hits.");

    private readonly List<(string Part, double Milliseconds)> _parts = [];
    private long _since = Stopwatch.GetTimestamp();

    /// <summary>Ends the part named <paramref name="part"/>: the time since the previous mark (or since creation).</summary>
    public void Mark(string part)
    {
        var now = Stopwatch.GetTimestamp();
        var milliseconds = Stopwatch.GetElapsedTime(_since, now).TotalMilliseconds;
        _parts.Add((part, milliseconds));
        SearchDuration.Record(milliseconds, new KeyValuePair<string, object?>("part", part));
        _since = now;
    }

    public override string ToString() =>
        string.Join(", ", _parts.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Part};dur={p.Milliseconds:0.###}")));
}
