using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Microsoft.Extensions.Options;

namespace Heimdex.Bench;

/// <summary>
/// Shot detection quality (F1 against the ContentDetector goldens, ±1 frame) and speed, Heimdex's detector against
/// ffmpeg's scdet filter on the same files. Heimdex's time is split into decoding (ffmpeg, 64 px grey) and detecting.
/// </summary>
public sealed partial class ShotBenchmark(string mediaDirectory)
{
    private const int Width = 64;
    private const int Height = 36;
    private const int Tolerance = 1;

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

            var truth = JsonDocument.Parse(await File.ReadAllTextAsync(golden)).RootElement.GetProperty("cuts").EnumerateArray().Select(c => c.GetInt32()).ToList();
            var (ours, frames, decode, detect) = await HeimdexAsync(video);
            Print(video, "heimdex", truth, ours, frames, decode + detect, decode, detect);
            var (theirs, scdetSeconds, frameRate) = await ScdetAsync(video);
            Print(video, "scdet", truth, theirs.Select(t => (int)Math.Round(t * frameRate)).ToList(), frames, scdetSeconds, scdetSeconds, detect: null);
        }
    }

    private static void Print(string video, string name, IReadOnlyList<int> truth, IReadOnlyList<int> found, int frames, double total, double decode, double? detect)
    {
        var hits = found.Count(f => truth.Any(t => Math.Abs(t - f) <= Tolerance));
        var precision = found.Count == 0 ? (truth.Count == 0 ? 1 : 0) : (double)hits / found.Count;
        var recall = truth.Count == 0 ? (found.Count == 0 ? 1 : 0) : (double)truth.Count(t => found.Any(f => Math.Abs(t - f) <= Tolerance)) / truth.Count;
        var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(video),-16} {name,-9} {f1,5:0.00} {precision,5:0.00} {recall,5:0.00} {frames / total,9:0} {decode,9:0.00} {(detect is { } seconds ? seconds.ToString("0.00", CultureInfo.InvariantCulture) : "(in decode)"),9}  [{string.Join(",", found)}] (golden [{string.Join(",", truth)}])"));
    }

    private static async Task<(IReadOnlyList<int> Cuts, int Frames, double DecodeSeconds, double DetectSeconds)> HeimdexAsync(string video)
    {
        var detector = new ShotDetector(Width, Height, new ShotDetector.Settings());
        var frames = new List<byte[]>();
        var decode = Stopwatch.StartNew();
        await new FFmpeg(Options.Create(new PipelineOptions())).RunAsync(ShotDetector.DecodeArguments(video, Width, Height),
            (output, token) => ShotDetector.ReadFramesAsync(output, Width * Height, frames.Add, token), CancellationToken.None);
        decode.Stop();
        var detect = Stopwatch.StartNew();
        foreach (var frame in frames)
        {
            detector.Add(frame);
        }

        var cuts = detector.Cuts();
        detect.Stop();
        return (cuts, frames.Count, decode.Elapsed.TotalSeconds, detect.Elapsed.TotalSeconds);
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
