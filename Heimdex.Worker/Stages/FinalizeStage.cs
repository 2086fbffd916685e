using Heimdex.Shared.Videos;
using Heimdex.Worker.Pipeline;

namespace Heimdex.Worker.Stages;

/// <summary>The last stage: the video is indexed and searchable.</summary>
public sealed class FinalizeStage(TimeProvider time) : IPipelineStage
{
    public static string StageName => "finalize";

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        (context.Video.State, context.Video.Error, context.Video.UpdatedAt) = (VideoState.Indexed, null, time.GetUtcNow());
        await context.Db.SaveChangesAsync(cancellationToken);
        return StageOutcome.Done();
    }
}
