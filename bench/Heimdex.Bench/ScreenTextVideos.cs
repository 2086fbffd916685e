using System.Globalization;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Microsoft.Extensions.Options;

namespace Heimdex.Bench;

/// <summary>A line a generated video shows, and when.</summary>
public sealed record ShownText(string Text, double StartSeconds, double EndSeconds);

public sealed record GeneratedScreenText(string Path, string Background, double Seconds, int Width, int Height, IReadOnlyList<ShownText> Shown);

/// <summary>
/// Videos whose on-screen text changes inside one shot, made from a seed: captions come and go at the bottom of a
/// camera panning over a photo, of a zooming fractal, or of a slide whose title stays while its lines appear one by
/// one; a label in the corner of the moving pictures stays throughout.
/// </summary>
public static class ScreenTextVideos
{
    public const int Width = 1280;
    public const int Height = 720;
    private const int FrameRate = 25;
    private const string Font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    private const string BoldFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    public const string Pan = "pan";
    public const string Fractal = "mandelbrot";
    public const string Slide = "slide";
    private static readonly string[] Backgrounds = [Pan, Fractal, Slide];

    /// <summary>What the video of a seed shows behind its text.</summary>
    public static string BackgroundOf(int seed) => Backgrounds[new Random(seed).Next(Backgrounds.Length)];

    public static async Task<GeneratedScreenText> CaptionedAsync(int seed, string photo, string directory, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var background = Backgrounds[random.Next(Backgrounds.Length)];
        var shown = new List<ShownText>();
        var drawn = new List<string>();
        var at = 1 + Frames(random.NextDouble());
        for (var i = random.Next(3, 6); i > 0; i--)
        {
            var end = at + Frames(2.5 + random.NextDouble() * 2.5);
            var text = Capitalised(ShotVideos.Phrase(random, 3, 5));
            shown.Add(new ShownText(text, at, end));
            drawn.Add(background == Slide
                ? $"drawtext=fontfile={Font}:text='{text}':fontsize=44:fontcolor=0x202020:x=120:y={230 + 80 * (shown.Count - 1)}:enable='gte(t\\,{Seconds(at)})'"
                : $"drawtext=fontfile={Font}:text='{text}':fontsize=44:fontcolor=white:box=1:boxcolor=black@0.7:boxborderw=14:x=(w-text_w)/2:y=h-120:enable='between(t\\,{Seconds(at)}\\,{Seconds(end - 0.04)})'");
            at = end + Frames(0.5 + random.NextDouble() * 1.5);
        }

        var seconds = at + 1;
        var fixedText = Capitalised(ShotVideos.Phrase(random, 2, 3));
        shown.Add(new ShownText(fixedText, 0, seconds));
        if (background == Slide)
        {
            // A built-up slide: each line stays once it has appeared.
            shown = [.. shown.Select(line => line.Text == fixedText ? line : line with { EndSeconds = seconds })];
        }

        var duration = Seconds(seconds);
        var (input, scene) = background switch
        {
            Pan => ((string[])["-loop", "1", "-framerate", $"{FrameRate}", "-t", duration, "-i", photo],
                $"scale=2560:-2,crop={Width}:{Height}:x='(iw-{Width})*t/{duration}':y='(ih-{Height})/2'"),
            Fractal => (["-f", "lavfi", "-i", $"mandelbrot=size={Width}x{Height}:rate={FrameRate}"], $"trim=start_frame={FrameRate}:duration={duration},setpts=PTS-STARTPTS"),
            _ => (["-f", "lavfi", "-i", $"color=c=0xf3ead8:size={Width}x{Height}:rate={FrameRate}:duration={duration}"], "null"),
        };
        var title = background == Slide
            ? $"drawtext=fontfile={BoldFont}:text='{fixedText}':fontsize=64:fontcolor=0x202020:x=80:y=90"
            : $"drawtext=fontfile={BoldFont}:text='{fixedText}':fontsize=36:fontcolor=white:box=1:boxcolor=0x0f5257:boxborderw=10:x=40:y=40";
        var path = System.IO.Path.Combine(directory, $"screen-text-{seed}.mp4");
        if (!File.Exists(path))
        {
            await new FFmpeg(Options.Create(new PipelineOptions())).RunAsync(
                ["-hide_banner", "-loglevel", "error", "-y", .. input, "-vf", string.Join(',', [scene, $"fps={FrameRate}", title, .. drawn, "format=yuv420p"]),
                 "-t", duration, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-threads", "1", "-f", "mp4", path + ".part"],
                null, cancellationToken);
            File.Move(path + ".part", path);
        }

        return new GeneratedScreenText(path, background, seconds, Width, Height, shown);
    }

    /// <summary>Whole frames, so a line's times are exactly the frames it shows on.</summary>
    private static double Frames(double seconds) => Math.Round(seconds * FrameRate) / FrameRate;

    private static string Seconds(double seconds) => seconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Capitalised(string phrase) => char.ToUpperInvariant(phrase[0]) + phrase[1..];
}
