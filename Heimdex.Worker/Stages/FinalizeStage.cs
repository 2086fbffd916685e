using Heimdex.Shared.Videos;
using Heimdex.Worker.Pipeline;

namespace Heimdex.Worker.Stages;

/// <summary>
/// The last stage: the video is indexed and searchable. The state is not saved here but by the runner together with
/// this stage's success, so nobody sees an indexed video whose last stage is still running.
/// </summary>
public sealed class FinalizeStage(TimeProvider time) : IPipelineStage
{
    public static string StageName => "finalize";

    public Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        (context.Video.State, context.Video.Error, context.Video.UpdatedAt) = (VideoState.Indexed, null, time.GetUtcNow());
        return Task.FromResult(StageOutcome.Done());
    }
}
