namespace Heimdex.Tests.Pipeline;

/// <summary>Test inputs made with ffmpeg on the spot, so each test says exactly what its video contains.</summary>
public static class MediaFactory
{
    private static string NewPath(string extension) => Path.Combine(Path.GetTempPath(), $"heimdex-media-{Guid.NewGuid():N}{extension}");

    /// <summary>
    /// A video of <paramref name="shots"/> shots of <paramref name="shotSeconds"/> each, alternating two very different
    /// pictures; silent, or with <paramref name="speech"/> said over and over as its sound.
    /// </summary>
    public static async Task<string> ShotsAsync(int shots, double shotSeconds, string? speech = null)
    {
        var path = NewPath(".mp4");
        var inputs = new List<string>();
        for (var i = 0; i < shots; i++)
        {
            var source = i % 2 == 0 ? "testsrc2" : "smptebars";
            inputs.AddRange(["-f", "lavfi", "-i", $"{source}=size=640x360:rate=25:duration={shotSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}"]);
        }

        var concat = string.Concat(Enumerable.Range(0, shots).Select(i => $"[{i}:v]")) + $"concat=n={shots}:v=1:a=0[v]";
        string[] sound = speech is null ? [] : ["-stream_loop", "-1", "-i", speech];
        string[] mapSound = speech is null ? [] : ["-map", $"{shots}:a", "-c:a", "aac", "-shortest"];
        await RunFFmpegAsync([.. inputs, .. sound, "-filter_complex", concat, "-map", "[v]", .. mapSound,
            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "35", "-pix_fmt", "yuv420p", path]);
        return path;
    }

    /// <summary>testvideo.mp4's picture with <paramref name="wav"/> as its sound.</summary>
    public static async Task<string> WithSoundAsync(string wav)
    {
        var path = NewPath(".mp4");
        await RunFFmpegAsync(["-i", TestFiles.TestVideo, "-i", wav, "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-shortest", path]);
        return path;
    }

    /// <summary>
    /// A two-shot talk: a white slide reading <paramref name="title"/>, then <paramref name="photo"/> (letterboxed), each
    /// for half of <paramref name="wav"/>, which is the sound.
    /// </summary>
    public static async Task<string> SlideThenPhotoAsync(string title, string photo, string wav, double seconds)
    {
        var path = NewPath(".mp4");
        var half = (seconds / 2).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        var font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
        await RunFFmpegAsync([
            "-f", "lavfi", "-i", $"color=c=white:size=1280x720:rate=25:duration={half}",
            "-loop", "1", "-framerate", "25", "-t", half, "-i", photo,
            "-i", wav,
            "-filter_complex",
            $"[0:v]drawtext=fontfile={font}:text='{title}':fontsize=64:fontcolor=black:x=(w-text_w)/2:y=300,setsar=1[slide];" +
            "[1:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25[photo];" +
            "[slide][photo]concat=n=2:v=1:a=0,format=yuv420p[v]",
            "-map", "[v]", "-map", "2:a", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", path]);
        return path;
    }

    /// <summary>A slide of a generated lecture: a title and one line of text, narrated by a speech synthesiser.</summary>
    public sealed record LectureSlide(string Title, string Line, string Narration);

    /// <summary>Where each slide of a generated lecture was shown, in seconds.</summary>
    public sealed record ShownSlide(LectureSlide Slide, double StartSeconds, double EndSeconds);

    /// <summary>
    /// A lecture: each slide (black text on one white background, so only the text changes) shown while espeak-ng
    /// says its narration, plus a second of silence; hard cuts between slides. A slide may appear more than once.
    /// </summary>
    public static async Task<(string Path, IReadOnlyList<ShownSlide> Shown)> LectureAsync(IReadOnlyList<LectureSlide> slides)
    {
        await TestTools.EnsureAsync(TestTools.EspeakNg);
        var path = NewPath(".mp4");
        var font = "/usr/share/fonts/truetype/dejavu/DejaVuSans";
        var inputs = new List<string>();
        var filters = new System.Text.StringBuilder();
        var shown = new List<ShownSlide>();
        var at = 0.0;
        for (var i = 0; i < slides.Count; i++)
        {
            var narration = NewPath(".wav");
            // Of espeak-ng's voices, pocketsphinx's English model hears this one best: about 65 % of the words of
            // these sentences, against 20 % in the default voice.
            var (exitCode, output) = await TestFiles.RunAsync("espeak-ng", Path.GetTempPath(), "-v", "en-us+klatt4", "-s", "130", "-w", narration, slides[i].Narration);
            Assert.True(exitCode == 0, output);
            var seconds = await DurationAsync(narration) + 1;
            var duration = seconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
            inputs.AddRange(["-f", "lavfi", "-i", $"color=c=white:size=1280x720:rate=25:duration={duration}", "-i", narration]);
            filters.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"[{2 * i}:v]drawtext=fontfile={font}-Bold.ttf:text='{slides[i].Title}':fontsize=72:fontcolor=black:x=80:y=120," +
                $"drawtext=fontfile={font}.ttf:text='{slides[i].Line}':fontsize=40:fontcolor=black:x=80:y=320,setsar=1[v{i}];" +
                $"[{2 * i + 1}:a]aresample=44100,apad,atrim=0:{duration}[a{i}];");
            shown.Add(new ShownSlide(slides[i], at, at + seconds));
            at += seconds;
        }

        var concat = string.Concat(slides.Select((_, i) => $"[v{i}][a{i}]")) + $"concat=n={slides.Count}:v=1:a=1[v][a]";
        await RunFFmpegAsync([.. inputs, "-filter_complex", filters + concat, "-map", "[v]", "-map", "[a]",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", path]);
        return (path, shown);
    }

    private static async Task<double> DurationAsync(string path)
    {
        var (exitCode, output) = await TestFiles.RunAsync("ffprobe", Path.GetTempPath(), "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path);
        Assert.True(exitCode == 0, output);
        return double.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A silent slideshow: each photo letterboxed into 1280×720 for <paramref name="secondsEach"/>, with a hard cut between photos.</summary>
    public static async Task<string> SlideshowAsync(IReadOnlyList<string> photos, double secondsEach)
    {
        var path = NewPath(".mp4");
        var seconds = secondsEach.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        var inputs = photos.SelectMany(photo => new[] { "-loop", "1", "-framerate", "25", "-t", seconds, "-i", photo });
        var scaled = string.Concat(photos.Select((_, i) =>
            $"[{i}:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25[p{i}];"));
        var concat = string.Concat(photos.Select((_, i) => $"[p{i}]")) + $"concat=n={photos.Count}:v=1:a=0,format=yuv420p[v]";
        await RunFFmpegAsync([.. inputs, "-filter_complex", scaled + concat, "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", path]);
        return path;
    }

    /// <summary>The JPEG with a comment segment of filler bytes after its header: the same picture, <paramref name="length"/> bytes or more.</summary>
    public static async Task<string> PaddedJpegAsync(byte[] jpeg, int length)
    {
        var path = NewPath(".jpg");
        await using var file = File.Create(path);
        await file.WriteAsync(jpeg.AsMemory(0, 2)); // SOI
        for (var written = jpeg.Length; written < length; written += 65535 + 2)
        {
            await file.WriteAsync(new byte[] { 0xFF, 0xFE, 0xFF, 0xFF }); // COM, 65535 bytes with its length field
            await file.WriteAsync(new byte[65533]);
        }

        await file.WriteAsync(jpeg.AsMemory(2));
        return path;
    }

    /// <summary>
    /// A decompression bomb: a grey PNG of a few hundred bytes whose header declares <paramref name="width"/> ×
    /// <paramref name="height"/> pixels (its data holds the first row only; a decoder allocates the whole picture first).
    /// </summary>
    public static async Task<string> PngDeclaringAsync(int width, int height)
    {
        var path = NewPath(".png");
        await using var file = File.Create(path);
        await file.WriteAsync(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A });
        var header = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        (header[8], header[9]) = (8, 0); // 8-bit grey; compression, filter and interlace 0
        await WritePngChunkAsync(file, "IHDR", header);
        using var row = new MemoryStream();
        await using (var zlib = new System.IO.Compression.ZLibStream(row, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            await zlib.WriteAsync(new byte[width + 1]);
        }

        await WritePngChunkAsync(file, "IDAT", row.ToArray());
        await WritePngChunkAsync(file, "IEND", []);
        return path;
    }

    private static async Task WritePngChunkAsync(Stream png, string type, byte[] data)
    {
        var chunk = new byte[8 + data.Length + 4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, chunk.AsSpan(4));
        data.CopyTo(chunk, 8);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
        await png.WriteAsync(chunk);
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }

    /// <summary>
    /// The frame of <paramref name="video"/> at <paramref name="seconds"/> as a JPEG <paramref name="width"/> pixels wide,
    /// at ffmpeg's JPEG quality <paramref name="quality"/> (2 is best, 31 worst).
    /// </summary>
    public static async Task<string> FrameAsync(string video, double seconds, int width, int quality)
    {
        var path = NewPath(".jpg");
        await RunFFmpegAsync(["-ss", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", video, "-frames:v", "1",
            "-vf", $"scale={width}:-2", "-q:v", quality.ToString(System.Globalization.CultureInfo.InvariantCulture), path]);
        return path;
    }

    /// <summary>A white JPEG reading <paramref name="text"/>: an image with no face in it.</summary>
    public static async Task<string> TextImageAsync(string text)
    {
        var path = NewPath(".jpg");
        await RunFFmpegAsync(["-f", "lavfi", "-i", "color=c=white:size=800x600",
            "-vf", $"drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf:text='{text}':fontsize=48:fontcolor=black:x=40:y=260",
            "-frames:v", "1", path]);
        return path;
    }

    /// <summary>A grey picture with <paramref name="wav"/> said <paramref name="times"/> times over: a long talk.</summary>
    public static async Task<string> RepeatedSpeechAsync(string wav, int times)
    {
        var path = NewPath(".mp4");
        await RunFFmpegAsync([
            "-f", "lavfi", "-i", "color=c=gray:size=320x240:rate=10", "-stream_loop", (times - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", wav,
            "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path]);
        return path;
    }

    /// <summary>An MP4 holding only the audio of <paramref name="wav"/>.</summary>
    public static async Task<string> AudioOnlyMp4Async(string wav)
    {
        var path = NewPath(".mp4");
        await RunFFmpegAsync(["-i", wav, "-c:a", "aac", path]);
        return path;
    }

    /// <summary>Three seconds of a picture one pixel wide and one high (H.264 4:4:4, which allows odd sizes).</summary>
    public static async Task<string> OnePixelAsync()
    {
        var path = NewPath(".mp4");
        await RunFFmpegAsync(["-f", "lavfi", "-i", "color=c=red:size=16x16:rate=25:duration=3", "-vf", "scale=1:1",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", path]);
        return path;
    }

    /// <summary>Two seconds of picture with <paramref name="streams"/> audio streams, each a tone of its own.</summary>
    public static async Task<string> ManyAudioStreamsAsync(int streams)
    {
        var path = NewPath(".mp4");
        var tones = Enumerable.Range(1, streams).SelectMany(i => new[] { "-f", "lavfi", "-i", $"sine=frequency={200 + (10 * i)}:duration=2" });
        var maps = Enumerable.Range(1, streams).SelectMany(i => new[] { "-map", $"{i}:a" });
        await RunFFmpegAsync(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2", .. tones, "-map", "0:v", .. maps,
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", path]);
        return path;
    }

    /// <summary>Two seconds of video whose header (the movie's mvhd box) claims it lasts <paramref name="declared"/>.</summary>
    public static async Task<string> DeclaringDurationAsync(TimeSpan declared)
    {
        var path = NewPath(".mp4");
        await RunFFmpegAsync(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", path]);
        var bytes = await File.ReadAllBytesAsync(path);
        // mvhd (version 0): type, version and flags, creation and modification times, then the timescale and the duration.
        var box = bytes.AsSpan().IndexOf("mvhd"u8);
        var timescale = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(box + 16));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(box + 20), checked((uint)(timescale * declared.TotalSeconds)));
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }

    private static async Task RunFFmpegAsync(string[] arguments)
    {
        var (exitCode, output) = await TestFiles.RunAsync("ffmpeg", Path.GetTempPath(), ["-hide_banner", "-loglevel", "error", "-y", .. arguments]);
        Assert.True(exitCode == 0, output);
    }
}
