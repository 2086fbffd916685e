using Heimdex.Shared.Data;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Telemetry;
using Heimdex.Shared.Videos;

namespace Heimdex.Api.Uploads;

/// <summary>Where both upload paths end: the video row, then the pipeline enqueued through the shared contract.</summary>
public sealed class VideoIntake(HeimdexDbContext db, IVideoPipeline pipeline)
{
    public async Task<Video> AcceptAsync(Video video, CancellationToken cancellationToken)
    {
        video.TraceParent = HeimdexTelemetry.CurrentTraceParent;
        db.Videos.Add(video);
        await db.SaveChangesAsync(cancellationToken);
        pipeline.Enqueue(video.Id);
        return video;
    }
}
