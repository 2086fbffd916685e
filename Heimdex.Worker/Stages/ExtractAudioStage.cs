using Heimdex.Shared.Storage;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;

namespace Heimdex.Worker.Stages;

/// <summary>The first audio stream as 16 kHz mono PCM, what speech recognition wants; a silent video skips this.</summary>
public sealed class ExtractAudioStage(FFmpeg ffmpeg) : IPipelineStage
{
    public static string StageName => "extract_audio";

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        if (context.Video.AudioCodec is null)
        {
            return StageOutcome.Skip("the video has no audio stream");
        }

        var wav = Path.Combine(context.WorkDirectory, "audio.wav");
        await ffmpeg.RunAsync(["-i", await context.OriginalUrlAsync(), "-map", "0:a:0", "-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-y", wav],
            readOutput: null, cancellationToken);
        progress.Report(0.8);
        var key = StorageKeys.Audio(context.Video.Id);
        await context.Store.UploadFileAsync(key, wav, "audio/wav", cancellationToken);
        return StageOutcome.Done(key);
    }
}
