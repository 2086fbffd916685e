using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Microsoft.Extensions.Options;

namespace Heimdex.Bench;

/// <summary>
/// Shot detection quality and speed. On the shared media: F1 against PySceneDetect's ContentDetector goldens (±1
/// frame), Heimdex against ffmpeg's scdet. On generated decks and cut videos (<see cref="ShotVideos"/>): F1 against
/// the boundaries they were made with (a cut ±1 frame, a transition ±0.5 s of its middle), on the seeds the detector's
/// settings were tuned on and, separately, on seeds they never saw.
/// </summary>
public sealed partial class ShotBenchmark(string mediaDirectory, bool verbose, string? keep)
{
    private const int Width = 64;
    private const int Height = 36;

    /// <summary>The seeds the detector's settings were chosen on; <see cref="HeldOutSeeds"/> were only ever measured.</summary>
    public static readonly int[] TuningSeeds = [1, 2, 3, 4, 5, 6];
    public static readonly int[] HeldOutSeeds = [.. Enumerable.Range(101, 16)];

    public async Task RunAsync()
    {
        Console.WriteLine($"{"file",-16} {"detector",-9} {"F1",5} {"P",5} {"R",5} {"frames/s",9} {"decode s",9} {"detect s",9}  cuts");
        foreach (var video in Directory.EnumerateFiles(mediaDirectory, "*.mp4").Order())
        {
            var golden = Path.Combine(mediaDirectory, "goldens", $"{Path.GetFileName(video)}.ContentDetector.default.json");
            if (!File.Exists(golden))
            {
                continue;
            }

            var truth = JsonDocument.Parse(await File.ReadAllTextAsync(golden)).RootElement.GetProperty("cuts").EnumerateArray()
                .Select(c => new ShotBoundary(c.GetInt32(), Gradual: false)).ToList();
            var (ours, frames, decode, detect) = await DetectAsync(video);
            Print(Path.GetFileName(video), "heimdex", ShotScore.Of(truth, ours, 0), frames, decode + detect, decode, detect, ours, truth);
            var (theirs, scdetSeconds, frameRate) = await ScdetAsync(video);
            var scdet = theirs.Select(t => (int)Math.Round(t * frameRate)).ToList();
            Print(Path.GetFileName(video), "scdet", ShotScore.Of(truth, scdet, 0), frames, scdetSeconds, scdetSeconds, detect: null, scdet, truth);
        }

        var work = keep ?? Directory.CreateTempSubdirectory("heimdex-shots-").FullName;
        Directory.CreateDirectory(work);
        var sources = ShotSources.Shared(mediaDirectory);
        Console.WriteLine();
        Console.WriteLine($"{"generated",-26} {"videos",6} {"bounds",6} {"F1",5} {"P",5} {"R",5} {"cut R",6} {"trans R",7} {"frames/s",9}");
        foreach (var (name, seeds) in new[] { ("tuning seeds", TuningSeeds), ("held-out seeds", HeldOutSeeds) })
        {
            foreach (var (kind, make) in new (string, Func<int, Task<GeneratedShots>>)[]
                     {
                         ("decks", seed => ShotVideos.DeckAsync(seed, sources, work, CancellationToken.None)),
                         ("cut videos", seed => ShotVideos.CutsAsync(seed, sources, work, CancellationToken.None)),
                     })
            {
                var total = new ShotScore(0, 0, 0, 0, 0, 0, 0);
                double seconds = 0;
                var frames = 0;
                foreach (var seed in seeds)
                {
                    var video = await make(seed);
                    var (found, count, decode, detect) = await DetectAsync(video.Path);
                    var score = ShotScore.Of(video.Boundaries, found, ShotVideos.FrameRate);
                    total += score;
                    if (verbose)
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  {Path.GetFileName(video.Path)}: F1 {score.F1:0.00} found [{string.Join(",", found)}] true [{video.Described}]"));
                    }
                    (seconds, frames) = (seconds + decode + detect, frames + count);
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{$"{kind}, {name}",-26} {seeds.Length,6} {total.Truth,6} {total.F1,5:0.00} {total.Precision,5:0.00} {total.Recall,5:0.00} {total.CutRecall,6:0.00} {total.TransitionRecall,7:0.00} {frames / seconds,9:0}"));
            }
        }

        if (keep is null)
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void Print(string video, string name, ShotScore score, int frames, double total, double decode, double? detect, IReadOnlyList<int> found, IReadOnlyList<ShotBoundary> truth) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{video,-16} {name,-9} {score.F1,5:0.00} {score.Precision,5:0.00} {score.Recall,5:0.00} {frames / total,9:0} {decode,9:0.00} {(detect is { } seconds ? seconds.ToString("0.00", CultureInfo.InvariantCulture) : "(in decode)"),9}  [{string.Join(",", found)}] (golden [{string.Join(",", truth.Select(t => t.Frame))}])"));

    /// <summary>The boundaries Heimdex finds in <paramref name="video"/>, decoded as the pipeline decodes it; decoding and detecting timed apart.</summary>
    public static async Task<(IReadOnlyList<int> Cuts, int Frames, double DecodeSeconds, double DetectSeconds)> DetectAsync(string video)
    {
        var frames = new List<byte[]>();
        var decode = Stopwatch.StartNew();
        await new FFmpeg(Options.Create(new PipelineOptions())).RunAsync(ShotDetector.DecodeArguments(video, Width, Height),
            (output, token) => ShotDetector.ReadFramesAsync(output, Width * Height, frames.Add, token), CancellationToken.None);
        decode.Stop();
        var detect = Stopwatch.StartNew();
        var frameRate = await FrameRateAsync(video);
        var detector = new ShotDetector(Width, Height, frameRate, new ShotDetector.Settings());
        foreach (var frame in frames)
        {
            detector.Add(frame);
        }

        // As the pipeline keeps them: no scene shorter than half a second.
        var cuts = ShotDetector.WithMinimumLength(detector.Cuts(), (int)Math.Round(new PipelineOptions().MinSceneSeconds * frameRate), frames.Count);
        detect.Stop();
        return (cuts, frames.Count, decode.Elapsed.TotalSeconds, detect.Elapsed.TotalSeconds);
    }

    private static async Task<double> FrameRateAsync(string video)
    {
        using var ffprobe = Process.Start(new ProcessStartInfo("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=r_frame_rate", "-of", "csv=p=0", video])
        {
            RedirectStandardOutput = true,
        })!;
        var rate = (await ffprobe.StandardOutput.ReadToEndAsync()).Trim().Split('/');
        await ffprobe.WaitForExitAsync();
        return double.Parse(rate[0], CultureInfo.InvariantCulture) / (rate.Length > 1 ? double.Parse(rate[1], CultureInfo.InvariantCulture) : 1);
    }

    private static async Task<(IReadOnlyList<double> Times, double Seconds, double FrameRate)> ScdetAsync(string video)
    {
        var clock = Stopwatch.StartNew();
        using var ffmpeg = Process.Start(new ProcessStartInfo("ffmpeg", ["-hide_banner", "-i", video, "-vf", "scdet=threshold=10", "-an", "-f", "null", "-"])
        {
            RedirectStandardError = true,
        })!;
        var log = await ffmpeg.StandardError.ReadToEndAsync();
        await ffmpeg.WaitForExitAsync();
        clock.Stop();
        var frameRate = FrameRate().Match(log) is { Success: true } rate ? double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture) : 25;
        var times = SceneTime().Matches(log).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        return (times, clock.Elapsed.TotalSeconds, frameRate);
    }

    [GeneratedRegex(@"lavfi\.scd\.time: ([0-9.]+)")]
    private static partial Regex SceneTime();

    [GeneratedRegex(@"([0-9.]+) fps")]
    private static partial Regex FrameRate();
}
