using System.Globalization;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Microsoft.Extensions.Options;

namespace Heimdex.Bench;

/// <summary>Where a generated video's picture changes: the first frame of the new shot after a cut, the middle frame of a gradual transition.</summary>
public sealed record ShotBoundary(int Frame, bool Gradual);

public sealed record GeneratedShots(string Path, int Frames, IReadOnlyList<ShotBoundary> Boundaries)
{
    /// <summary>The boundaries as frame numbers, a transition's marked with ~.</summary>
    public string Described => string.Join(",", Boundaries.Select(b => b.Gradual ? $"~{b.Frame}" : $"{b.Frame}"));
}

/// <summary>
/// What generated videos are made of: a photo (a person walking across a slide, a camera panning) and a video whose
/// shots, given as (first second, seconds), are moving footage without a cut inside.
/// </summary>
public sealed record ShotSources(string Photo, string Footage, IReadOnlyList<(double Start, double Seconds)> FootageShots)
{
    /// <summary>The shared testvideo.mp4: a leaf, a deer, a leaf on a rock and a grating, as ContentDetector's goldens cut it.</summary>
    public static ShotSources Shared(string media) => new(Path.Combine(media, "..", "faces", "obama_1.jpg"), Path.Combine(media, "testvideo.mp4"),
        [(1.2, 4.6), (6.2, 6.3), (13.6, 3.6), (18.4, 3.4)]);
}

/// <summary>
/// Videos with known shot boundaries, made from a seed. Decks are slides on one of several background colours whose
/// text changes from slide to slide, joined by hard cuts, 0.5 s cross-fades and fades through black; cut videos join
/// moving pictures (natural footage, a camera panning over a photo, animated test patterns). Both carry distractors
/// that are not boundaries: a one-frame flash, a photo sliding across a slide like a speaker walking, camera motion.
/// </summary>
public static class ShotVideos
{
    public const int FrameRate = 25;
    private const int Width = 640;
    private const int Height = 360;
    private const double CrossFadeSeconds = 0.5;
    private const double FadeThroughBlackSeconds = 1;
    private const string Font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    private const string BoldFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

    private static readonly (string Background, string Text)[] Palettes =
        [("white", "black"), ("0x1f2a44", "white"), ("0xf3ead8", "0x3a2a1a"), ("0x2d2d2d", "0xe0e0e0"), ("0x0f5257", "white"), ("black", "yellow")];

    internal static readonly string[] Words =
        ["roman", "roads", "aqueduct", "bridges", "trade", "salt", "empire", "legion", "harbour", "grain", "mosaic", "forum", "census",
         "bronze", "iron", "river", "delta", "tides", "orbit", "comet", "signal", "network", "packet", "router", "kernel", "thread",
         "memory", "cache", "index", "search", "vector", "matrix", "energy", "carbon", "forest", "glacier", "volcano", "island"];

    private enum Join
    {
        Cut,
        CrossFade,
        FadeThroughBlack,
    }

    private abstract record Piece(int Frames);

    private sealed record SlidePiece(int Frames, (string Background, string Text) Palette, string Title, IReadOnlyList<string> Lines, int? FlashAt, bool Walker) : Piece(Frames);

    private sealed record FootagePiece(int Frames, string Kind, double Start, int? FlashAt) : Piece(Frames);

    private const string Footage = "footage";
    private const string Pan = "pan";

    /// <summary>A deck of 6 to 9 slides of 2.5 to 5 s.</summary>
    public static Task<GeneratedShots> DeckAsync(int seed, ShotSources sources, string directory, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var palette = Palettes[random.Next(Palettes.Length)];
        var pieces = Enumerable.Range(0, random.Next(6, 10)).Select(_ =>
        {
            var walker = random.NextDouble() < 0.2;
            var frames = random.Next((int)((walker ? 4 : 2.5) * FrameRate), 5 * FrameRate);
            // Now and then a section slide on a second colour.
            var colours = random.NextDouble() < 0.15 ? Palettes[random.Next(Palettes.Length)] : palette;
            return (Piece)new SlidePiece(frames, colours, Phrase(random, 2, 4), [.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => Phrase(random, 3, 6))],
                random.NextDouble() < 0.2 ? random.Next(20, frames - 20) : null, walker);
        }).ToList();
        return RenderAsync(seed, "deck", pieces, random, sources, directory, cancellationToken);
    }

    /// <summary>
    /// 5 to 8 stretches of 2 to 4 s of moving pictures: the shots of <see cref="ShotSources.Footage"/>, a camera panning
    /// over the photo, and ffmpeg's animated patterns (a zooming fractal, the game of life, a moving test card).
    /// </summary>
    public static Task<GeneratedShots> CutsAsync(int seed, ShotSources sources, string directory, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        string[] patterns = [Pan, "testsrc2", "mandelbrot", "life"];
        var pieces = new List<Piece>();
        var previous = -1;
        for (var i = random.Next(5, 9); i > 0; i--)
        {
            int choice;
            do
            {
                choice = random.Next(patterns.Length + sources.FootageShots.Count);
            }
            while (choice == previous); // the same picture twice in a row would be a join that shows no change

            previous = choice;
            var frames = random.Next(2 * FrameRate, 4 * FrameRate);
            var flash = random.NextDouble() < 0.2 ? random.Next(15, frames - 15) : (int?)null;
            if (choice < patterns.Length)
            {
                pieces.Add(new FootagePiece(frames, patterns[choice], 0, flash));
                continue;
            }

            var shot = sources.FootageShots[choice - patterns.Length];
            frames = Math.Min(frames, (int)(shot.Seconds * FrameRate));
            pieces.Add(new FootagePiece(frames, Footage, shot.Start + random.NextDouble() * (shot.Seconds - frames / (double)FrameRate), flash is { } at ? Math.Min(at, frames - 15) : null));
        }

        return RenderAsync(seed, "cuts", pieces, random, sources, directory, cancellationToken);
    }

    private static async Task<GeneratedShots> RenderAsync(int seed, string name, List<Piece> pieces, Random random, ShotSources sources, string directory, CancellationToken cancellationToken)
    {
        var path = System.IO.Path.Combine(directory, $"{name}-{seed}.mp4");
        var inputs = new List<string>();
        var filters = new List<string>();
        for (var i = 0; i < pieces.Count; i++)
        {
            var first = inputs.Count(argument => argument == "-i");
            var seconds = Seconds(pieces[i].Frames);
            var (input, filter) = pieces[i] switch
            {
                SlidePiece slide => SlideInput(slide, seconds, first, sources.Photo),
                FootagePiece footage => FootageInput(footage, seconds, first, sources),
                _ => throw new InvalidOperationException(),
            };
            var flash = pieces[i] switch { SlidePiece { FlashAt: { } at } => at, FootagePiece { FlashAt: { } at } => at, _ => (int?)null };
            inputs.AddRange(input);
            // Exactly the piece's frames, whatever a source's own length: the boundaries are counted in frames.
            filters.Add($"{filter},scale={Width}:{Height},setsar=1,fps={FrameRate},format=yuv420p,tpad=stop_mode=clone:stop_duration=1,trim=end_frame={pieces[i].Frames}" +
                (flash is { } frame ? $",drawbox=c=white:t=fill:enable='eq(n\\,{frame})'" : "") + $",settb=AVTB,setpts=PTS-STARTPTS[p{i}]");
        }

        var boundaries = new List<ShotBoundary>();
        var length = pieces[0].Frames;
        var chain = "[p0]";
        for (var i = 1; i < pieces.Count; i++)
        {
            var join = (Join)random.Next(3);
            var next = $"[j{i}]";
            if (join == Join.Cut)
            {
                filters.Add($"{chain}[p{i}]concat=n=2:v=1:a=0,settb=AVTB{next}");
                boundaries.Add(new ShotBoundary(length, Gradual: false));
                length += pieces[i].Frames;
            }
            else
            {
                var (transition, duration) = join == Join.CrossFade ? ("fade", CrossFadeSeconds) : ("fadeblack", FadeThroughBlackSeconds);
                var overlap = (int)Math.Round(duration * FrameRate);
                var offset = length - overlap;
                filters.Add($"{chain}[p{i}]xfade=transition={transition}:duration={Seconds(overlap)}:offset={Seconds(offset)}{next}");
                boundaries.Add(new ShotBoundary(offset + overlap / 2, Gradual: true));
                length = offset + pieces[i].Frames;
            }

            chain = next;
        }

        // The same seed always makes the same video (one encoder thread: x264's output depends on its thread count), so one made before is used again.
        if (!File.Exists(path))
        {
            await new FFmpeg(Options.Create(new PipelineOptions())).RunAsync(
                ["-hide_banner", "-loglevel", "error", "-y", .. inputs, "-filter_complex", string.Join(';', filters), "-map", chain,
                 "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-threads", "1", "-pix_fmt", "yuv420p", "-frames:v", length.ToString(CultureInfo.InvariantCulture), "-f", "mp4", path + ".part"],
                null, cancellationToken);
            File.Move(path + ".part", path);
        }

        return new GeneratedShots(path, length, boundaries);
    }

    private static (string[] Input, string Filter) SlideInput(SlidePiece slide, string seconds, int first, string photo)
    {
        string[] input = ["-f", "lavfi", "-i", $"color=c={slide.Palette.Background}:size=1280x720:rate={FrameRate}:duration={seconds}"];
        var text = $"[{first}:v]drawtext=fontfile={BoldFont}:text='{slide.Title}':fontsize=64:fontcolor={slide.Palette.Text}:x=80:y=90" +
            string.Concat(slide.Lines.Select((line, i) => $",drawtext=fontfile={Font}:text='{line}':fontsize=40:fontcolor={slide.Palette.Text}:x=110:y={250 + 80 * i}"));
        if (!slide.Walker)
        {
            return (input, text);
        }

        // Someone crossing in front of the slide and stopping: a photo sliding for 1.5 s, between the slide's transitions.
        return ([.. input, "-loop", "1", "-framerate", FrameRate.ToString(CultureInfo.InvariantCulture), "-t", seconds, "-i", photo],
            $"{text}[slide{first}];[{first + 1}:v]scale=240:-2[walker{first}];[slide{first}][walker{first}]overlay=x='if(lt(t\\,1)\\,700\\,if(lt(t\\,2.5)\\,700+(t-1)*200\\,1000))':y=330");
    }

    private static (string[] Input, string Filter) FootageInput(FootagePiece footage, string seconds, int first, ShotSources sources) => footage.Kind switch
    {
        Footage => (["-ss", footage.Start.ToString("0.000", CultureInfo.InvariantCulture), "-t", seconds, "-i", sources.Footage], $"[{first}:v]null"),
        Pan => (["-loop", "1", "-framerate", FrameRate.ToString(CultureInfo.InvariantCulture), "-t", seconds, "-i", sources.Photo],
            $"[{first}:v]scale=1280:-2,crop=640:360:x='(iw-640)*t/{seconds}':y='(ih-360)/2'"),
        // A pattern's first frames are its seed (the game of life starts as noise): it is joined once it is running.
        var pattern => (["-f", "lavfi", "-i", $"{pattern}=size=640x360:rate={FrameRate}"], $"[{first}:v]trim=start_frame={FrameRate},setpts=PTS-STARTPTS"),
    };

    private static string Seconds(int frames) => (frames / (double)FrameRate).ToString("0.####", CultureInfo.InvariantCulture);

    internal static string Phrase(Random random, int min, int max) =>
        string.Join(' ', Enumerable.Range(0, random.Next(min, max + 1)).Select(_ => Words[random.Next(Words.Length)]));
}
