using System.Diagnostics;

namespace Heimdex.Bench;

/// <summary>Wall-clock samples and their percentiles, as every benchmark here reports them.</summary>
public static class Latency
{
    public static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>The nearest-rank percentile (0–100) of the samples.</summary>
    public static double Percentile(IReadOnlyCollection<double> milliseconds, double percentile)
    {
        var sorted = milliseconds.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
