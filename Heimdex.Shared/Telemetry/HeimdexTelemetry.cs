using System.Diagnostics;
using System.Diagnostics.Metrics;
using Heimdex.Conventions;

namespace Heimdex.Shared.Telemetry;

/// <summary>Heimdex's own spans and instruments, and the attribute names that tie them to a video, a photo or a person.</summary>
public static class HeimdexTelemetry
{
    public const string VideoId = "heimdex.video.id";
    public const string Stage = "heimdex.stage";
    public const string Attempt = "heimdex.attempt";
    public const string PhotoId = "heimdex.photo.id";
    public const string PersonId = "heimdex.person.id";

    public static readonly ActivitySource Source = new(TelemetryNames.Source);

    public static readonly Meter Meter = new(TelemetryNames.Source);

    /// <summary>The W3C trace context of the current span, to keep with work that starts here and continues later.</summary>
    public static string? CurrentTraceParent => Activity.Current?.Id;

    /// <summary>A link to the trace that <paramref name="traceParent"/> names (a video's upload), when it names one.</summary>
    public static IEnumerable<ActivityLink> LinkTo(string? traceParent) =>
        ActivityContext.TryParse(traceParent, null, out var context) ? [new ActivityLink(context)] : [];

    /// <summary>
    /// A span that starts new work for a video outside the request or job that began it (a watchdog's re-enqueue):
    /// a trace of its own, linked to the video's original trace.
    /// </summary>
    public static Activity? StartLinkedToVideo(string name, Guid videoId, string? videoTraceParent) =>
        Source.StartActivity(name, ActivityKind.Internal, parentContext: default, links: LinkTo(videoTraceParent))?.SetTag(VideoId, videoId);

    /// <summary>Marks <paramref name="activity"/> failed with <paramref name="error"/>, as the dashboard shows errors.</summary>
    public static void RecordFailure(this Activity? activity, Exception error)
    {
        activity?.SetStatus(ActivityStatusCode.Error, ErrorText.Of(error));
        activity?.AddException(error);
    }

    /// <summary>Log scope whose values the OpenTelemetry logger keeps as attributes, so structured logs filter by them.</summary>
    public static Dictionary<string, object> Scope(params (string Name, object Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value);
}
