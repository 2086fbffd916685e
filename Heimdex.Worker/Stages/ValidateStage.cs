using FFMpegCore;
using FFMpegCore.Exceptions;
using Heimdex.Shared.Storage;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Microsoft.Extensions.Options;

namespace Heimdex.Worker.Stages;

/// <summary>Probes the original with ffprobe and records what it is; anything that is not a readable video fails here, with the reason.</summary>
public sealed class ValidateStage(FFmpeg ffmpeg, IOptions<PipelineOptions> options) : IPipelineStage
{
    public static string StageName => "validate";

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        // A missing original is storage's problem, not the file's: it is retried rather than blamed on the video.
        await context.Store.S3.GetObjectMetadataAsync(context.Store.Bucket, StorageKeys.VideoOriginal(context.Video.Id), cancellationToken);
        IMediaAnalysis analysis;
        try
        {
            analysis = await ffmpeg.ProbeAsync(new Uri(await context.OriginalUrlAsync()), cancellationToken);
        }
        catch (FFMpegException error) when (StorageReadErrors.Describe(error.Message))
        {
            throw new StorageReadException($"Storage failed the read of the original (retried): {FirstLine(error.Message)}", error);
        }
        catch (Exception error) when (error is FFMpegException or FormatException or System.Text.Json.JsonException)
        {
            throw new PermanentStageFailure($"The file is not a readable video (corrupt or truncated?): {FirstLine(error.Message)}");
        }

        var video = analysis.PrimaryVideoStream
                    ?? throw new PermanentStageFailure(analysis.PrimaryAudioStream is null
                        ? "The file has no video or audio stream."
                        : "The file has no video stream (it is audio only).");
        if (video.Width <= 0 || video.Height <= 0 || analysis.Duration <= TimeSpan.Zero)
        {
            throw new PermanentStageFailure($"The video stream has no usable picture or duration ({video.Width}x{video.Height}, {analysis.Duration}).");
        }

        if (options.Value.RefusalOf(video.Width.GetValueOrDefault(), video.Height.GetValueOrDefault(), analysis.Duration.TotalSeconds) is { } tooLarge)
        {
            throw new PermanentStageFailure(tooLarge);
        }

        var record = context.Video;
        record.DurationSeconds = analysis.Duration.TotalSeconds;
        record.Width = video.Width;
        record.Height = video.Height;
        record.FrameRate = video.AverageFrameRate > 0 ? video.AverageFrameRate : video.RealFrameRate;
        record.VideoCodec = video.CodecName;
        record.AudioCodec = analysis.PrimaryAudioStream?.CodecName;
        await context.Db.SaveChangesAsync(cancellationToken);
        return StageOutcome.Done();
    }

    private static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? text;
}
