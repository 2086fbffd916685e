using Heimdex.Worker.Pipeline;
using Heimdex.Worker.People;

namespace Heimdex.Worker.Stages;

/// <summary>The video's faces matched against the people its owner has already made from reference photos.</summary>
public sealed class PeopleStage(PeopleMatcher matcher) : IPipelineStage
{
    public static string StageName => "people";

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        await matcher.MatchAsync(context.Db, context.Video.OwnerId, context.Video.Id, cancellationToken);
        return StageOutcome.Done();
    }
}
