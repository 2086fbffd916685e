using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Heimdex.Shared.Telemetry;

namespace Heimdex.Search;

/// <summary>
/// Milliseconds spent in each part of a search, as a <c>Server-Timing</c> header value (name;dur=ms, …, in the order
/// the parts ended) and as the <c>heimdex.search.duration</c> histogram by part. Parts may run at the same time, on
/// different threads: the query's meaning is found while Postgres ranks its words.
/// </summary>
public sealed class ServerTiming
{
    private static readonly Histogram<double> SearchDuration = HeimdexTelemetry.Meter.CreateHistogram<double>(
        "heimdex.search.duration", "ms", "Time spent in each part of a scene search: embed, vectors, rank, hits.");

    private readonly Lock _lock = new();
    private readonly List<(string Part, double Milliseconds)> _parts = [];

    /// <summary>Ends the part named <paramref name="part"/>, begun at <paramref name="since"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public void Mark(string part, long since)
    {
        var milliseconds = Stopwatch.GetElapsedTime(since).TotalMilliseconds;
        lock (_lock)
        {
            _parts.Add((part, milliseconds));
        }

        SearchDuration.Record(milliseconds, new KeyValuePair<string, object?>("part", part));
    }

    /// <summary>Runs <paramref name="work"/> as the part named <paramref name="part"/>.</summary>
    public T Time<T>(string part, Func<T> work)
    {
        var since = Stopwatch.GetTimestamp();
        var result = work();
        Mark(part, since);
        return result;
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return string.Join(", ", _parts.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Part};dur={p.Milliseconds:0.###}")));
        }
    }
}
