using System.ComponentModel.DataAnnotations;

namespace Heimdex.Worker.Pipeline;

/// <summary>Configuration section <c>Pipeline</c>.</summary>
public sealed class PipelineOptions
{
    public const string Section = "Pipeline";

    [Required]
    public string FFmpegPath { get; set; } = "ffmpeg";

    [Required]
    public string FFprobePath { get; set; } = "ffprobe";

    /// <summary>Scratch space for a stage's intermediate files; each stage cleans its own.</summary>
    [Required]
    public string WorkDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "heimdex-worker");

    /// <summary>Hangfire workers: stages run ffmpeg, so more than the cores only makes each slower.</summary>
    [Range(1, 64)]
    public int Workers { get; set; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Attempts per stage before the video is marked failed.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Waits between attempts, in seconds; the last repeats.</summary>
    public int[] RetryDelaysSeconds { get; set; } = [10, 60, 300];

    /// <summary>The wait before the attempt after <paramref name="attempt"/>.</summary>
    public TimeSpan RetryDelay(int attempt) =>
        RetryDelaysSeconds is [] ? TimeSpan.Zero : TimeSpan.FromSeconds(RetryDelaysSeconds[Math.Clamp(attempt - 1, 0, RetryDelaysSeconds.Length - 1)]);

    /// <summary>How often a running stage proves it is alive.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A running stage silent for this long lost its worker: the watchdog resumes it.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A stage running longer than this is cancelled (its ffmpeg killed) and the video failed with that reason.</summary>
    public TimeSpan StageTimeout { get; set; } = TimeSpan.FromHours(2);

    /// <summary>ffmpeg and ffprobe give up on a storage read that makes no progress for this long; the stage then fails and is retried.</summary>
    public TimeSpan StorageReadTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A video waiting this long with no stage running or queued is re-enqueued.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan WatchdogInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The largest picture a video may have, in pixels (default 8K: 8192 × 4320); larger ones fail validation.</summary>
    [Range(1, long.MaxValue)]
    public long MaxVideoPixels { get; set; } = 8192L * 4320;

    /// <summary>
    /// The most decoding a video may ask for: width × height × duration in seconds (default 4K for 12 hours). Every
    /// picture stage decodes the whole video, so this bounds each stage's work; larger videos fail validation.
    /// </summary>
    [Range(1, long.MaxValue)]
    public long MaxVideoPixelSeconds { get; set; } = 3840L * 2160 * 12 * 3600;

    /// <summary>Why a video of this size may not be indexed, or null when it may.</summary>
    public string? RefusalOf(int width, int height, double seconds)
    {
        var pixels = (long)width * height;
        if (pixels > MaxVideoPixels)
        {
            return $"The video's picture is {width}×{height} ({pixels:N0} pixels); at most {MaxVideoPixels:N0} are indexed (Pipeline__MaxVideoPixels).";
        }

        var pixelSeconds = pixels * seconds;
        return pixelSeconds > MaxVideoPixelSeconds
            ? $"The video is {width}×{height} for {TimeSpan.FromSeconds(Math.Round(seconds)):c}: {pixelSeconds:N0} pixel-seconds to decode, more than " +
              $"the {MaxVideoPixelSeconds:N0} allowed (Pipeline__MaxVideoPixelSeconds, e.g. 4K for 12 hours)."
            : null;
    }

    /// <summary>Shots shorter than this are merged into the one before.</summary>
    [Range(0.0, 60.0)]
    public double MinSceneSeconds { get; set; } = 0.5;

    /// <summary>Width of the frames shot detection decodes: small, so the detector costs little next to decoding.</summary>
    [Range(16, 640)]
    public int ShotDetectionWidth { get; set; } = 64;

    [Range(32, 4096)]
    public int ThumbnailWidth { get; set; } = 320;
}
