using System.Globalization;
using Heimdex.Worker.Engines;

namespace Heimdex.Worker.Text;

/// <summary>A line of on-screen text and when it showed: from the change of picture that brought it to the one that took it away.</summary>
public sealed record ScreenLine(string Text, double Confidence, double StartSeconds, double EndSeconds);

/// <summary>
/// Reads the text on screen wherever the picture changes, not once per scene. Frames arrive every
/// <see cref="Settings.SampleSeconds"/>; one is read when it is a scene's first settled picture, or when it differs,
/// block by block, from the picture read last — once the change has settled (the next sample looks alike), so a
/// cross-fade is not read halfway; as soon as the changed part stands still while the rest moves (a caption over
/// footage); or after <see cref="Settings.MaxSettleSeconds"/> of change that never settles (camera motion). A picture
/// alike one of the last reads reuses that read instead of running OCR again.
/// A line seen in consecutive reads is one line whose time range grows, even across scenes; it ends at the first
/// still picture without it, or where the first of two reads in a row of a moving picture misses it.
/// Which pictures are read depends on the pictures alone, never on what was read, so up to the reader's number of
/// parallel reads run at once while the samples go on; their lines are followed in the order of the reads, so the
/// result is the one reading them one after another gives.
/// </summary>
public sealed class ScreenReader
{
    /// <param name="SampleSeconds">How often a frame is looked at.</param>
    /// <param name="MaxWidth">Frames are read at the video's size up to this width (text at 720p reads well; more only costs time).</param>
    /// <param name="CompareWidth">Pictures are compared shrunk to this width, in blocks of <paramref name="BlockSize"/> pixels.</param>
    /// <param name="ChangeThreshold">Mean absolute change of a block (0–255) that makes two pictures different.</param>
    /// <param name="MaxSettleSeconds">The longest a changed picture waits to settle before it is read anyway.</param>
    /// <param name="MinReadSeconds">
    /// The least time between reads of a picture that is still moving elsewhere, and the longest a scene's first
    /// picture waits to settle (what shows then is taken to show from the scene's start).
    /// </param>
    public sealed record Settings(
        double SampleSeconds = 0.5, int MaxWidth = 1280, int CompareWidth = 160, int BlockSize = 10, double ChangeThreshold = 8, double MaxSettleSeconds = 2,
        double MinReadSeconds = 1);

    private sealed class OpenLine(string text, double confidence, double startSeconds, string key)
    {
        public string Key { get; } = key;

        public double StartSeconds { get; } = startSeconds;

        public double Confidence { get; set; } = confidence;

        /// <summary>When the line was first missing from a read; it ends there unless the next read sees it again.</summary>
        public double? MissedAt { get; set; }

        public ScreenLine Close(double endSeconds) => new(text, Confidence, StartSeconds, MissedAt ?? endSeconds);
    }

    /// <summary>
    /// How many earlier reads a changed picture is compared with: slides that come back do so within a talk's last few
    /// dozen pictures, and a long moving video must not make every read compare with all before it.
    /// </summary>
    private const int RememberedReads = 64;

    private readonly int _width;
    private readonly int _height;
    private readonly (int Width, int Height) _compared;
    private readonly IReadOnlyList<double> _sceneStarts;
    private readonly Func<byte[], int, int, IReadOnlyList<TextLine>> _read;
    private readonly Settings _settings;
    private readonly int _parallelReads;
    private readonly List<(byte[] Picture, Task<List<TextLine>> Lines)> _reads = [];
    private readonly Queue<(Task<List<TextLine>> Lines, double ChangedAt, bool Settled)> _unfollowed = new();
    private readonly List<ScreenLine> _closed = [];
    private List<OpenLine> _open = [];
    private int _samples;
    private int _scene = -1;
    private bool _readInScene;
    private double? _changedAt;
    private (byte[] Frame, byte[] Picture, double Seconds)? _previous;
    private byte[]? _lastRead;
    private double _lastReadAt;

    /// <param name="width">Width of the frames given to <see cref="Add"/> (see <see cref="FrameSizeFor"/>).</param>
    /// <param name="sceneStarts">Where each scene starts, in seconds, in order.</param>
    /// <param name="read">Reads the lines in a grey frame (width, height); called from several threads at once when <paramref name="parallelReads"/> is more than 1.</param>
    /// <param name="parallelReads">How many reads may run at once (each on a thread of the pool); 1 reads on the caller's thread.</param>
    public ScreenReader(int width, int height, IReadOnlyList<double> sceneStarts, Func<byte[], int, int, IReadOnlyList<TextLine>> read, Settings settings, int parallelReads = 1)
    {
        (_width, _height, _read, _settings, _parallelReads) = (width, height, read, settings, Math.Max(1, parallelReads));
        _compared = PictureChange.ShrunkSize(width, height, settings.CompareWidth);
        _sceneStarts = sceneStarts.Count > 0 ? sceneStarts : [0];
    }

    public int FrameSize => _width * _height;

    /// <summary>How far into the video the frames given so far reach.</summary>
    public double SampledSeconds => _samples * _settings.SampleSeconds;

    /// <summary>Pictures OCR read.</summary>
    public int Reads { get; private set; }

    /// <summary>Pictures that changed but looked like one read before, so that read served.</summary>
    public int ReadsReused { get; private set; }

    /// <summary>The size frames are read at: the video's, no wider than <see cref="Settings.MaxWidth"/>, both sides even.</summary>
    public static (int Width, int Height) FrameSizeFor(int videoWidth, int videoHeight, Settings settings)
    {
        var width = Math.Min(videoWidth, settings.MaxWidth) / 2 * 2;
        return (Math.Max(2, width), Math.Max(2, (int)Math.Round(videoHeight * (double)width / videoWidth / 2) * 2));
    }

    /// <summary>The size pictures are compared at: a read frame shrunk to <see cref="Settings.CompareWidth"/>.</summary>
    public static (int Width, int Height) ComparedSizeFor(int videoWidth, int videoHeight, Settings settings)
    {
        var (width, height) = FrameSizeFor(videoWidth, videoHeight, settings);
        return PictureChange.ShrunkSize(width, height, settings.CompareWidth);
    }

    /// <summary>
    /// Reads a whole video's on-screen text in one decode: frames sampled at <see cref="Settings.SampleSeconds"/>, no
    /// wider than <see cref="Settings.MaxWidth"/>, each handed to a reader; progress is the share of
    /// <paramref name="durationSeconds"/> sampled. Each sample as compared (<see cref="ComparedSizeFor"/>) is also
    /// handed to <paramref name="seeCompared"/>, so what else looks at the picture needs no decode of its own. Returns
    /// the lines and the reader (for its counts). ffmpeg decodes on <paramref name="cores"/> threads, and as many reads
    /// run at once (all cores when null).
    /// </summary>
    public static async Task<(IReadOnlyList<ScreenLine> Lines, ScreenReader Reader)> ReadVideoAsync(
        FFmpeg ffmpeg, string input, (int Width, int Height) videoSize, double durationSeconds, IReadOnlyList<double> sceneStarts,
        Func<byte[], int, int, IReadOnlyList<TextLine>> read, Settings settings, Action<byte[]>? seeCompared, int? cores, IProgress<double>? progress,
        CancellationToken cancellationToken)
    {
        var (width, height) = FrameSizeFor(videoSize.Width, videoSize.Height, settings);
        var reader = new ScreenReader(width, height, sceneStarts, read, settings, cores ?? Environment.ProcessorCount);
        await ffmpeg.RunAsync(
            DecodeArguments(input, width, height, settings),
            (frames, token) => ShotDetector.ReadFramesAsync(frames, reader.FrameSize, frame =>
            {
                var compared = reader.Add(frame);
                seeCompared?.Invoke(compared);
                progress?.Report(Math.Min(0.99, reader.SampledSeconds / Math.Max(durationSeconds, 1)));
            }, token),
            cancellationToken, cores);
        return (reader.Finish(durationSeconds), reader);
    }

    private static IReadOnlyList<string> DecodeArguments(string input, int width, int height, Settings settings) =>
        ["-i", input, "-map", "0:v:0", "-vf",
         // round=up: the sample at t is the last frame shown at or before t, not one up to half a sample later.
         $"fps={(1 / settings.SampleSeconds).ToString("0.###", CultureInfo.InvariantCulture)}:round=up,scale={width}:{height}:flags=area,format=gray",
         "-f", "rawvideo", "-"];

    /// <summary>
    /// Looks at the next sample (width × height bytes of luma), reading it when the picture changed. Returns the sample
    /// as compared: shrunk to <see cref="Settings.CompareWidth"/>.
    /// </summary>
    public byte[] Add(byte[] frame)
    {
        var seconds = SampledSeconds;
        _samples++;
        var picture = PictureChange.Shrink(frame, _width, _height, _settings.CompareWidth);
        var sincePrevious = _previous is { } previous ? Changes(picture, previous.Picture) : null;
        var sinceRead = _lastRead is null ? null : Changes(picture, _lastRead);
        var threshold = _settings.ChangeThreshold;
        var partSettled = false;
        var scene = SceneAt(seconds);
        if (scene != _scene)
        {
            FinishScene();
            (_scene, _readInScene, _changedAt) = (scene, false, Math.Min(seconds, _sceneStarts[scene]));
        }
        else if (sinceRead is not null && sinceRead.Max() > threshold)
        {
            _changedAt ??= seconds;
            // A part of the picture changed and then stood still while the rest may still move: a caption over moving pictures.
            partSettled = _readInScene && sincePrevious is not null && sinceRead.Where((change, block) => change > threshold && sincePrevious[block] <= threshold).Any();
        }
        else if (_readInScene)
        {
            _changedAt = null; // back to the picture read last: nothing new to read
        }

        if (_changedAt is { } since)
        {
            if (sincePrevious is not null && sincePrevious.Max() <= threshold)
            {
                Read(frame, picture, since, seconds, settled: true);
            }
            else if (partSettled && seconds - _lastReadAt >= _settings.MinReadSeconds)
            {
                Read(frame, picture, Math.Max(since, seconds - _settings.SampleSeconds), seconds, settled: false);
            }
            else if (seconds - since >= (_readInScene ? _settings.MaxSettleSeconds : _settings.MinReadSeconds))
            {
                // Text that came while everything moved came somewhere since the last read: its middle errs least.
                Read(frame, picture, _readInScene ? Math.Max(since, (_lastReadAt + seconds) / 2) : since, seconds, settled: false);
            }
        }

        _previous = (frame, picture, seconds);
        FollowReads(untilAllDone: false);
        return picture;
    }

    /// <summary>Every line read, with its time range; lines still showing at the end run to <paramref name="durationSeconds"/>.</summary>
    public IReadOnlyList<ScreenLine> Finish(double durationSeconds)
    {
        FinishScene();
        FollowReads(untilAllDone: true);
        var end = Math.Max(durationSeconds, SampledSeconds);
        _closed.AddRange(_open.Select(line => line.Close(end)));
        _open = [];
        return [.. _closed.OrderBy(line => line.StartSeconds).ThenBy(line => line.Text, StringComparer.Ordinal)];
    }

    /// <summary>A scene whose picture never settled is read at its last sample.</summary>
    private void FinishScene()
    {
        if (_scene >= 0 && !_readInScene && _previous is { } last)
        {
            Read(last.Frame, last.Picture, _changedAt ?? _sceneStarts[_scene], last.Seconds, settled: false);
        }
    }

    /// <param name="settled">Whether the picture stood still: OCR reads a still picture reliably, one in motion less so.</param>
    private void Read(byte[] frame, byte[] picture, double changedAt, double seconds, bool settled)
    {
        var earlier = _reads.FindIndex(read => !Differs(picture, read.Picture));
        Task<List<TextLine>> lines;
        if (earlier >= 0)
        {
            lines = _reads[earlier].Lines;
            ReadsReused++;
        }
        else
        {
            lines = StartReading(frame);
            _reads.Add((picture, lines));
            if (_reads.Count > RememberedReads)
            {
                _reads.RemoveAt(0);
            }

            Reads++;
        }

        _unfollowed.Enqueue((lines, changedAt, settled));
        (_lastRead, _lastReadAt, _changedAt, _readInScene) = (picture, seconds, null, true);
    }

    private Task<List<TextLine>> StartReading(byte[] frame)
    {
        List<TextLine> ReadLines() => [.. _read(frame, _width, _height).Where(line => line.IsText)];
        if (_parallelReads == 1)
        {
            return Task.FromResult(ReadLines());
        }

        // A read leaves the queue only once it is done and followed, so the queue holds every read still running.
        Task[] running = [.. _unfollowed.Select(read => read.Lines).Where(read => !read.IsCompleted).Distinct()];
        if (running.Length >= _parallelReads)
        {
            Task.WaitAny(running);
        }

        return Task.Run(ReadLines);
    }

    /// <summary>Follows the lines of the reads that are done, in the order they were asked for (all of them, waiting, when <paramref name="untilAllDone"/>).</summary>
    private void FollowReads(bool untilAllDone)
    {
        while (_unfollowed.TryPeek(out var next) && (untilAllDone || next.Lines.IsCompleted))
        {
            _unfollowed.Dequeue();
            Follow(next.Lines.GetAwaiter().GetResult(), next.ChangedAt, next.Settled);
        }
    }

    private void Follow(List<TextLine> lines, double changedAt, bool settled)
    {
        // On a busy picture Tesseract splits a line ("Aqueduct aq" | "ueduct orbit salt") or reads only part of it: the
        // line still continues, and pieces read before the whole line are that line, not lines of their own.
        var keys = lines.Select(line => line.Key).ToList();
        var joined = string.Concat(keys);
        var showing = _open.Where(open => keys.Any(key => SameLine(open.Key, key) || PartOf(key, open.Key))
            || (joined.Contains(open.Key, StringComparison.Ordinal) && !keys.Any(key => key.Length > open.Key.Length && key.Contains(open.Key, StringComparison.Ordinal)))).ToList();
        var claimed = showing.ToHashSet();
        foreach (var continued in showing)
        {
            continued.MissedAt = null;
        }

        foreach (var line in lines.OrderByDescending(line => line.Key.Length))
        {
            var key = line.Key;
            if (showing.FirstOrDefault(open => SameLine(open.Key, key) || open.Key.Contains(key, StringComparison.Ordinal)) is { } known)
            {
                known.Confidence = Math.Max(known.Confidence, line.Confidence);
                continue;
            }

            var pieces = _open.Where(open => !claimed.Contains(open) && open.Key.Length >= 3 && key.Contains(open.Key, StringComparison.Ordinal)).ToList();
            claimed.UnionWith(pieces);
            showing.Add(new OpenLine(line.Text, line.Confidence, pieces.Count > 0 ? pieces.Min(piece => piece.StartSeconds) : changedAt, key));
        }

        // OCR misses a line now and then on a moving picture: there a line ends when two reads in a row do not see it.
        foreach (var missing in _open.Where(open => !claimed.Contains(open)))
        {
            if (missing.MissedAt is null && !settled)
            {
                missing.MissedAt = changedAt;
                showing.Add(missing);
            }
            else
            {
                _closed.Add(missing.Close(changedAt));
            }
        }

        _open = showing;
    }

    private int SceneAt(double seconds)
    {
        var scene = 0;
        while (scene + 1 < _sceneStarts.Count && _sceneStarts[scene + 1] <= seconds)
        {
            scene++;
        }

        return scene;
    }

    private double[] Changes(byte[] a, byte[] b) => PictureChange.BlockChanges(a, b, _compared.Width, _compared.Height, _settings.BlockSize);

    private bool Differs(byte[] a, byte[] b) => Changes(a, b).Max() > _settings.ChangeThreshold;

    /// <summary>
    /// Two reads of one line: the same letters and digits, or (for lines long enough to tell) at most one in five
    /// different — OCR misreads a few letters of the same line between frames, more so over moving pictures.
    /// </summary>
    public static bool SameLine(string a, string b) =>
        a == b || (Math.Min(a.Length, b.Length) >= 8 && EditDistance(a, b) * 5 <= Math.Max(a.Length, b.Length));

    /// <summary>A read of most of a line: at least three fifths of its letters, in one piece.</summary>
    private static bool PartOf(string piece, string line) => piece.Length * 5 >= line.Length * 3 && line.Contains(piece, StringComparison.Ordinal);

    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
