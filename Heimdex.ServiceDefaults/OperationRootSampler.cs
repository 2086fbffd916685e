using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// For spans without a parent: keeps those that begin an operation (a request, a job, a span of Heimdex's own) and
/// drops bare database, Redis and HTTP calls. Those are Hangfire's and the watchdog's background polling, hundreds a
/// minute, which would bury each video's trace in the dashboard; the same calls made by an operation are its children
/// and are kept.
/// </summary>
internal sealed class OperationRootSampler : Sampler
{
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        new(samplingParameters.Kind == ActivityKind.Client ? SamplingDecision.Drop : SamplingDecision.RecordAndSample);
}
