using System.Diagnostics;
using Hangfire.Client;
using Hangfire.Server;

namespace Heimdex.Shared.Telemetry;

/// <summary>
/// Carries trace context through Hangfire: a job keeps the W3C context of the span that enqueued it (an upload
/// request, the stage before it) and runs as a child span of it, so a video's upload and every stage and photo job
/// that follow are one trace. A job that throws ends its span with error status and the exception.
/// </summary>
public sealed class JobTracing : IClientFilter, IServerFilter
{
    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";
    private const string ActivityItem = "heimdex.activity";

    public void OnCreating(CreatingContext context)
    {
        if (Activity.Current is { } current)
        {
            context.SetJobParameter(TraceParent, current.Id);
            if (current.TraceStateString is { } traceState)
            {
                context.SetJobParameter(TraceState, traceState);
            }
        }
    }

    public void OnCreated(CreatedContext context)
    {
    }

    public void OnPerforming(PerformingContext context)
    {
        ActivityContext.TryParse(context.GetJobParameter<string>(TraceParent), context.GetJobParameter<string>(TraceState), out var parent);
        var activity = HeimdexTelemetry.Source.StartActivity($"{context.BackgroundJob.Job.Type.Name}.{context.BackgroundJob.Job.Method.Name}",
            ActivityKind.Consumer, parent);
        activity?.SetTag("hangfire.job.id", context.BackgroundJob.Id);
        context.Items[ActivityItem] = activity;
    }

    public void OnPerformed(PerformedContext context)
    {
        if (!context.Items.TryGetValue(ActivityItem, out var item) || item is not Activity activity)
        {
            return;
        }

        if (context.Exception is { } error && !context.ExceptionHandled)
        {
            activity.RecordFailure(error.InnerException ?? error); // Hangfire wraps what the job threw
        }

        activity.Dispose();
    }
}
