using System.ComponentModel;
using Hangfire;

namespace Heimdex.Shared.Pipeline;

/// <summary>
/// The contract the API enqueues through. The worker implements <see cref="IVideoPipelineJobs"/>; Hangfire carries
/// the call over Redis, so the API never references the worker.
/// </summary>
public interface IVideoPipelineJobs
{
    /// <summary>Runs the pipeline for a video from <paramref name="fromStage"/> (the first unfinished stage when null).</summary>
    [DisplayName("pipeline from {1} · video {0}")]
    Task RunAsync(Guid videoId, string? fromStage, CancellationToken cancellationToken);
}

public interface IVideoPipeline
{
    /// <returns>The background job's id.</returns>
    string Enqueue(Guid videoId, string? fromStage = null);
}

public sealed class HangfireVideoPipeline(IBackgroundJobClient jobs) : IVideoPipeline
{
    public string Enqueue(Guid videoId, string? fromStage = null) =>
        jobs.Enqueue<IVideoPipelineJobs>(pipeline => pipeline.RunAsync(videoId, fromStage, CancellationToken.None));
}
