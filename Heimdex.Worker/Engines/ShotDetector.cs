namespace Heimdex.Worker.Engines;

/// <summary>
/// Finds hard cuts in a stream of small greyscale frames. A frame's score is how much it differs from the one before
/// (mean absolute pixel change, 0–255). A cut is a score that is both large in absolute terms and several times the
/// scores around it: fades, dissolves and camera motion change every frame a little, a cut changes one frame a lot.
/// (A brightness histogram was tried and dropped: on flat frames a fade moves every pixel across a bin edge at once.)
/// </summary>
public sealed class ShotDetector(int width, int height, ShotDetector.Settings settings)
{
    public sealed record Settings(double MinScore = 20, double MinRatio = 3, int Window = 4);

    private readonly List<double> _scores = [];
    private byte[]? _previous;

    public int FrameCount => _scores.Count;

    public int FrameSize => width * height;

    /// <summary>Feeds the next frame (width × height bytes of luma).</summary>
    public void Add(ReadOnlySpan<byte> frame)
    {
        if (_previous is null)
        {
            _scores.Add(0);
            _previous = new byte[frame.Length];
        }
        else
        {
            long change = 0;
            for (var i = 0; i < frame.Length; i++)
            {
                change += Math.Abs(frame[i] - _previous[i]);
            }

            _scores.Add((double)change / frame.Length);
        }

        frame.CopyTo(_previous);
    }

    /// <summary>0-based indices of the first frame of each new shot.</summary>
    public IReadOnlyList<int> Cuts()
    {
        var cuts = new List<int>();
        for (var i = 1; i < _scores.Count; i++)
        {
            var neighbours = Enumerable.Range(i - settings.Window, 2 * settings.Window + 1)
                .Where(j => j >= 1 && j < _scores.Count && j != i)
                .Select(j => _scores[j])
                .ToList();
            var background = neighbours.Count == 0 ? 0 : neighbours.Average();
            if (_scores[i] >= settings.MinScore && _scores[i] >= settings.MinRatio * Math.Max(background, 1))
            {
                cuts.Add(i);
            }
        }

        return cuts;
    }

    /// <summary>ffmpeg arguments that decode <paramref name="input"/>'s first video stream to raw grey frames of this size on stdout.</summary>
    public static IReadOnlyList<string> DecodeArguments(string input, int width, int height) =>
        ["-i", input, "-map", "0:v:0", "-vf", $"scale={width}:{height}:flags=area,format=gray", "-f", "rawvideo", "-"];

    /// <summary>Reads whole frames of <paramref name="frameSize"/> bytes until the stream ends (a partial last frame is dropped).</summary>
    public static async Task ReadFramesAsync(Stream frames, int frameSize, Action<byte[]> onFrame, CancellationToken cancellationToken)
    {
        while (true)
        {
            var frame = new byte[frameSize];
            var filled = 0;
            int read;
            while (filled < frameSize && (read = await frames.ReadAsync(frame.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += read;
            }

            if (filled < frameSize)
            {
                return;
            }

            onFrame(frame);
        }
    }

    /// <summary>Drops cuts that would make a shot shorter than <paramref name="minFrames"/>, keeping the earlier cut.</summary>
    public static IReadOnlyList<int> WithMinimumLength(IReadOnlyList<int> cuts, int minFrames, int totalFrames)
    {
        var kept = new List<int>();
        var shotStart = 0;
        foreach (var cut in cuts)
        {
            if (cut - shotStart >= minFrames && totalFrames - cut >= minFrames)
            {
                kept.Add(cut);
                shotStart = cut;
            }
        }

        return kept;
    }
}
