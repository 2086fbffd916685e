using System.Diagnostics;
using System.Globalization;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Heimdex.Worker.Text;
using Microsoft.Extensions.Options;

namespace Heimdex.Bench;

/// <summary>How one generated video's lines were read: each shown line's match (null when missed) and the lines read that it never showed.</summary>
public sealed record ScreenTextScore(IReadOnlyList<(ShownText Shown, ScreenLine? Read)> Lines, IReadOnlyList<ScreenLine> Extra)
{
    public int Found => Lines.Count(line => line.Read is not null);

    /// <summary>Lines found whose start and end are both within <paramref name="seconds"/> of the truth.</summary>
    public int OnTime(double seconds) => Lines.Count(line => line.Read is { } read
        && Math.Abs(read.StartSeconds - line.Shown.StartSeconds) <= seconds && Math.Abs(read.EndSeconds - line.Shown.EndSeconds) <= seconds);

    public static ScreenTextScore Of(IReadOnlyList<ShownText> shown, IReadOnlyList<ScreenLine> read)
    {
        var matched = shown.Select(line => (line, read.Where(r => ScreenReader.SameLine(new TextLine(r.Text, 1).Key, new TextLine(line.Text, 1).Key)
                && r.StartSeconds < line.EndSeconds && r.EndSeconds > line.StartSeconds)
            .OrderBy(r => Math.Abs(r.StartSeconds - line.StartSeconds)).FirstOrDefault())).ToList();
        return new ScreenTextScore(matched, [.. read.Where(r => matched.All(m => m.Item2 != r))]);
    }
}

/// <summary>
/// <c>bench -- ocr</c>: on-screen text read wherever the picture changes, on generated videos whose captions change
/// inside a shot (<see cref="ScreenTextVideos"/>), with the scenes the shot detector finds: lines found, their times,
/// OCR runs, and what reading one keyframe per scene could have found at best.
/// </summary>
public sealed class ScreenTextBenchmark(string media)
{
    private static readonly int[] Seeds = [.. Enumerable.Range(1, 12)];

    public async Task RunAsync()
    {
        var directory = Directory.CreateTempSubdirectory("heimdex-ocr-bench").FullName;
        var photo = Path.Combine(media, "..", "faces", "obama_1.jpg");
        using var ocr = new TesseractOcr();
        int shownLines = 0, found = 0, onTime = 0, extra = 0, reads = 0, samples = 0, keyframeBest = 0;
        double videoSeconds = 0, readSeconds = 0;
        Console.WriteLine("video                 background  lines found on-time(1s) extra reads/samples keyframe-per-scene(best) seconds");
        foreach (var seed in Seeds)
        {
            var video = await ScreenTextVideos.CaptionedAsync(seed, photo, directory, CancellationToken.None);
            var (cuts, _, _, _) = await ShotBenchmark.DetectAsync(video.Path);
            double[] sceneStarts = [0, .. cuts.Select(cut => cut / 25.0)];
            var clock = Stopwatch.StartNew();
            var (lines, reader) = await ScreenReader.ReadVideoAsync(new FFmpeg(Options.Create(new PipelineOptions())), video.Path, (video.Width, video.Height), video.Seconds,
                sceneStarts, ocr.Read, new ScreenReader.Settings(), seeCompared: null, cores: 1, progress: null, CancellationToken.None);
            clock.Stop();
            var score = ScreenTextScore.Of(video.Shown, lines);
            var middles = sceneStarts.Zip(sceneStarts.Skip(1).Append(video.Seconds), (start, end) => (start + end) / 2).ToList();
            var best = video.Shown.Count(line => middles.Any(middle => middle >= line.StartSeconds && middle < line.EndSeconds));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(video.Path),-21} {video.Background,-11} {video.Shown.Count,5} {score.Found,5} {score.OnTime(1),11} {score.Extra.Count,5} {reader.Reads,5}/{reader.SampledSeconds / 0.5,-7:0} {best,24} {clock.Elapsed.TotalSeconds,7:0.0}"));
            foreach (var (shown, read) in score.Lines.Where(line => line.Read is null || !ScreenTextScore.Of([line.Shown], [line.Read]).OnTime(1).Equals(1)))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"    \"{shown.Text}\" {shown.StartSeconds:0.00}-{shown.EndSeconds:0.00} read {(read is null ? "never" : $"\"{read.Text}\" {read.StartSeconds:0.00}-{read.EndSeconds:0.00}")}"));
            }

            foreach (var wrong in score.Extra.Take(3))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    never shown: \"{wrong.Text}\" {wrong.StartSeconds:0.00}-{wrong.EndSeconds:0.00}"));
            }

            (shownLines, found, onTime, extra, reads, samples, keyframeBest) =
                (shownLines + video.Shown.Count, found + score.Found, onTime + score.OnTime(1), extra + score.Extra.Count, reads + reader.Reads, samples + (int)(reader.SampledSeconds / 0.5), keyframeBest + best);
            (videoSeconds, readSeconds) = (videoSeconds + video.Seconds, readSeconds + clock.Elapsed.TotalSeconds);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"all: {found}/{shownLines} lines found ({(double)found / shownLines:P0}), {onTime} with start and end within 1 s ({(double)onTime / shownLines:P0}); " +
            $"{extra} lines read that were never shown; OCR ran on {reads} of {samples} samples ({reads * 60.0 / videoSeconds:0.0} per minute of video); " +
            $"reading took {readSeconds:0.0} s for {videoSeconds:0} s of video ({videoSeconds / readSeconds:0.0}x real time); one keyframe per scene could have found at best {keyframeBest}/{shownLines}"));
        Directory.Delete(directory, recursive: true);
    }
}
