using Heimdex.Shared.Search;
using Heimdex.Worker.Pipeline;
using StackExchange.Redis;

namespace Heimdex.Worker.Stages;

/// <summary>
/// Where the branches end: it runs once everything else is done and tells every API process to load the video's
/// scenes into its search indexes. Its success makes the video indexed (the runner saves both together).
/// </summary>
public sealed class FinalizeStage(IConnectionMultiplexer redis) : IPipelineStage
{
    public static string StageName => "finalize";

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        await SceneChanges.PublishAsync(redis, context.Video.Id);
        return StageOutcome.Done();
    }
}
