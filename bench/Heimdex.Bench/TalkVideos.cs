using System.Globalization;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Microsoft.Extensions.Options;

namespace Heimdex.Bench;

/// <summary>
/// A generated talk: 720p slides of 15 s (a title and three lines on one background; every fifth slide shows the
/// speaker's photo beside its text) with narration made of the shared speech clips, repeated to the talk's length.
/// </summary>
public static class TalkVideos
{
    private const double SlideSeconds = 15;
    private const string Font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    private const string BoldFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

    public static async Task<string> MakeAsync(double seconds, string audioDirectory, string photo, string directory, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, $"talk-{seconds:0}s.mp4");
        if (File.Exists(path))
        {
            return path;
        }

        var ffmpeg = new FFmpeg(Options.Create(new PipelineOptions()));
        var clips = Directory.EnumerateFiles(audioDirectory, "*.wav").Concat(Directory.EnumerateFiles(audioDirectory, "*.ogg", SearchOption.AllDirectories)).Order().ToList();
        var narration = Path.Combine(directory, "narration.wav");
        await ffmpeg.RunAsync(
            ["-hide_banner", "-loglevel", "error", "-y", .. clips.SelectMany(clip => new[] { "-i", clip }),
             "-filter_complex", string.Concat(clips.Select((_, i) => $"[{i}:a]aresample=16000,aformat=channel_layouts=mono[a{i}];")) +
                 string.Concat(clips.Select((_, i) => $"[a{i}]")) + $"concat=n={clips.Count}:v=0:a=1[out]",
             "-map", "[out]", narration],
            null, cancellationToken);

        var random = new Random(7);
        var slides = (int)Math.Ceiling(seconds / SlideSeconds);
        var text = new List<string>();
        for (var slide = 0; slide < slides; slide++)
        {
            var (start, end) = (Number(slide * SlideSeconds), Number((slide + 1) * SlideSeconds));
            var when = $"enable='between(t\\,{start}\\,{end})'";
            text.Add($"drawtext=fontfile={BoldFont}:text='{slide + 1}. {Capitalised(ShotVideos.Phrase(random, 2, 4))}':fontsize=60:fontcolor=0x1f2a44:x=80:y=80:{when}");
            text.AddRange(Enumerable.Range(0, 3).Select(line =>
                $"drawtext=fontfile={Font}:text='{Capitalised(ShotVideos.Phrase(random, 3, 6))}':fontsize=40:fontcolor=0x1f2a44:x=110:y={240 + 90 * line}:{when}"));
        }

        var withSpeaker = string.Join('+', Enumerable.Range(0, slides).Where(slide => slide % 5 == 2).Select(slide =>
            $"between(t\\,{Number(slide * SlideSeconds)}\\,{Number((slide + 1) * SlideSeconds)})"));
        var duration = Number(seconds);
        await ffmpeg.RunAsync(
            ["-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", $"color=c=0xf3ead8:size=1280x720:rate=25:duration={duration}",
             "-loop", "1", "-framerate", "25", "-t", duration, "-i", photo,
             "-stream_loop", "-1", "-i", narration,
             "-filter_complex", $"[1:v]scale=-2:420[speaker];[0:v][speaker]overlay=x=W-w-80:y=220:enable='{withSpeaker}',{string.Join(',', text)},format=yuv420p[v]",
             "-map", "[v]", "-map", "2:a", "-t", duration, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-c:a", "aac", "-b:a", "96k",
             "-f", "mp4", path + ".part"],
            null, cancellationToken);
        File.Move(path + ".part", path);
        File.Delete(narration);
        return path;
    }

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Capitalised(string phrase) => char.ToUpperInvariant(phrase[0]) + phrase[1..];
}
