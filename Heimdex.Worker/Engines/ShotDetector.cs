namespace Heimdex.Worker.Engines;

/// <summary>
/// Finds where the picture's content changes in a stream of small greyscale frames, one frame at a time. Frames are
/// compared block by block, so a new slide's text on an unchanged background counts as much as a cut of the whole
/// frame. Two rules find boundaries:
/// <list type="bullet">
/// <item>A <b>cut</b> is a frame in which enough blocks change several times more than each of those blocks changes in
/// the frames around it (its own noise: motion, grain), and which is not followed or preceded by another such frame
/// (a flash changes the picture and changes it back).</item>
/// <item>A <b>transition</b> joins two stills (stretches of frames that stay within a small change of their first
/// frame) whose pictures differ, across a gap of at most <see cref="Settings.MaxTransitionSeconds"/> that either blends
/// them (the gap's middle frame lies between the two pictures: a cross-fade or a fade) or passes through a blank
/// picture (a fade through black). Its boundary is the gap's middle, or the first frame of the new still when there is
/// no gap. Someone moving and stopping, or a camera panning, joins stills by motion, not by a blend, and does not split
/// the scene; neither does a change between two blank pictures (a fade of an empty screen). A short blank still
/// between two transitions (fading out to black, holding, fading in) makes one boundary, in the blank.</item>
/// </list>
/// </summary>
public sealed class ShotDetector
{
    /// <param name="BlockSize">Side of the square blocks compared, in frame pixels.</param>
    /// <param name="MinBlockChange">The least mean absolute change (0–255) of a block that has changed.</param>
    /// <param name="MinChangedBlocks">The smallest share of the blocks a boundary changes.</param>
    /// <param name="MinCutChange">The least mean absolute change of a block that changes in a cut (the end of a fade may step by less).</param>
    /// <param name="CutRatio">How many times its usual change (the median of the frames around) a block changes in a cut.</param>
    /// <param name="Window">Frames each side of a candidate cut that tell a block's usual change.</param>
    /// <param name="MinStillSeconds">How long the picture must stay put to be a still.</param>
    /// <param name="MaxTransitionSeconds">The longest gap between two stills that is a transition rather than motion.</param>
    /// <param name="BlankDeviation">A frame whose pixels' standard deviation is below this is blank.</param>
    /// <param name="MaxBlendError">How far from halfway between the stills a transition's middle frame may be (0 = exactly halfway, 1 = at one of them).</param>
    /// <param name="DissolveSeconds">Half the length of the shortest dissolve looked for in moving pictures (twice it is looked for too).</param>
    /// <param name="DissolveContrast">How much of the contrast of the pictures either side a dissolve's middle frame keeps, at most (two unrelated pictures averaged keep about 0.7).</param>
    /// <param name="DissolveChange">The least share of the blocks that differ across a dissolve.</param>
    public sealed record Settings(
        int BlockSize = 4,
        double MinBlockChange = 6,
        double MinChangedBlocks = 0.02,
        double MinCutChange = 15,
        double CutRatio = 3,
        int Window = 4,
        double MinStillSeconds = 0.2,
        double MaxTransitionSeconds = 2.5,
        double BlankDeviation = 6,
        double MaxBlendError = 0.5,
        double DissolveSeconds = 0.25,
        double DissolveContrast = 0.85,
        double DissolveChange = 0.3);

    private const double DarkLevel = 48;

    private readonly int _width;
    private readonly Settings _settings;
    private readonly int _minStill;
    private readonly int _maxTransition;
    private readonly (int Start, int Length)[] _blockRows;
    private readonly (int Start, int Length)[] _blockColumns;
    private readonly int _blocks;
    private readonly byte[][] _recent;
    private readonly double[][] _recentBlockChanges;
    private readonly List<double> _abnormal = [];
    private readonly List<double> _contrast = [];
    private readonly List<double> _brightness = [];
    private readonly int _dissolveHalf;
    private readonly List<(int Frame, Found Rule)> _boundaries = [];
    private readonly double[] _scratch;

    /// <summary>The first frame of the still being watched (null: in a gap), and where the current candidate still and gap began.</summary>
    private int? _still;
    private int _gapStart;
    private int _candidate;
    private (int Frame, bool Hard)? _lastIntoBlank;
    private int? _blankStart;
    private (int Start, int End)? _blankRun;

    /// <summary>The rules, in the order their boundary is preferred when several find one transition.</summary>
    private enum Found
    {
        Blank,
        Cut,
        Still,
        Dissolve,
    }

    public ShotDetector(int width, int height, double frameRate, Settings settings)
    {
        (_width, _settings) = (width, settings);
        _minStill = Math.Max(2, (int)Math.Round(settings.MinStillSeconds * frameRate));
        _maxTransition = (int)Math.Round(settings.MaxTransitionSeconds * frameRate);
        _dissolveHalf = Math.Max(2, (int)Math.Round(settings.DissolveSeconds * frameRate));
        _blockRows = Spans(height, settings.BlockSize);
        _blockColumns = Spans(width, settings.BlockSize);
        _blocks = _blockRows.Length * _blockColumns.Length;
        _scratch = new double[_blocks];
        // Enough history for the longest gap with the stills either side, and a cut's window.
        _recent = new byte[Math.Max(_maxTransition + 2 * _minStill, 4 * _dissolveHalf) + 4][];
        _recentBlockChanges = new double[2 * settings.Window + 2][];
        FrameSize = width * height;
    }

    public int FrameCount { get; private set; }

    public int FrameSize { get; }

    /// <summary>Feeds the next frame (width × height bytes of luma).</summary>
    public void Add(ReadOnlySpan<byte> frame)
    {
        var index = FrameCount++;
        frame.CopyTo(_recent[index % _recent.Length] ??= new byte[FrameSize]);
        var changes = _recentBlockChanges[index % _recentBlockChanges.Length] ??= new double[_blocks];
        var (brightness, contrast) = Measure(Frame(index));
        _brightness.Add(brightness);
        _contrast.Add(contrast);
        if (index == 0)
        {
            _still = 0;
            _abnormal.Add(0);
            return;
        }

        BlockChanges(Frame(index - 1), Frame(index), changes);
        _abnormal.Add(0);
        if (index - _settings.Window >= 1)
        {
            ScoreCut(index - _settings.Window, index);
        }

        if (index - 2 * _settings.Window - 1 >= 1)
        {
            FindCut(index - 2 * _settings.Window - 1);
        }

        FollowStills(index);
        FollowBlanks(index);
        foreach (var half in (ReadOnlySpan<int>)[_dissolveHalf, 2 * _dissolveHalf])
        {
            if (index - half >= half)
            {
                FindDissolve(index - half, half);
            }
        }
    }

    /// <summary>0-based indices of the first frame of each new shot (for a transition, its middle frame), in order.</summary>
    public IReadOnlyList<int> Cuts()
    {
        for (var candidate = Math.Max(1, FrameCount - _settings.Window); candidate < FrameCount; candidate++)
        {
            ScoreCut(candidate, FrameCount - 1);
        }

        for (var candidate = Math.Max(1, FrameCount - 2 * _settings.Window - 1); candidate < FrameCount; candidate++)
        {
            FindCut(candidate);
        }

        // Boundaries closer than a dissolve are one transition found by several rules: the preferred rule places it.
        var cuts = new List<int>();
        var sorted = _boundaries.OrderBy(b => b.Frame).ToList();
        for (var first = 0; first < sorted.Count;)
        {
            var last = first;
            while (last + 1 < sorted.Count && sorted[last + 1].Frame - sorted[last].Frame <= 2 * _dissolveHalf)
            {
                last++;
            }

            cuts.Add(sorted[first..(last + 1)].MinBy(b => b.Rule).Frame);
            first = last + 1;
        }

        return cuts;
    }

    /// <summary>The share of blocks that change at <paramref name="candidate"/> several times their median change in the frames around it.</summary>
    private void ScoreCut(int candidate, int last)
    {
        var changes = BlockChangesAt(candidate);
        var abnormal = 0;
        var around = Enumerable.Range(candidate - _settings.Window, 2 * _settings.Window + 1)
            .Where(i => i >= 1 && i <= last && i != candidate).Select(BlockChangesAt).ToList();
        var usual = new double[around.Count];
        for (var block = 0; block < _blocks; block++)
        {
            for (var i = 0; i < around.Count; i++)
            {
                usual[i] = around[i][block];
            }

            Array.Sort(usual);
            var typical = usual.Length == 0 ? 0 : usual[usual.Length / 2];
            if (changes[block] > Math.Max(_settings.MinCutChange, _settings.CutRatio * typical))
            {
                abnormal++;
            }
        }

        _abnormal[candidate] = (double)abnormal / _blocks;
    }

    /// <summary>A cut stands alone: the frames next to it do not change the picture as much (a flash changes it twice).</summary>
    private void FindCut(int candidate)
    {
        var score = _abnormal[candidate];
        if (score >= _settings.MinChangedBlocks && Enumerable.Range(candidate - 2, 5)
                .All(i => i == candidate || i < 1 || i >= _abnormal.Count || _abnormal[i] < score / 2))
        {
            _boundaries.Add((candidate, Found.Cut));
        }
    }

    /// <summary>
    /// A dissolve between moving pictures: the frame halfway through has lost contrast (two unrelated pictures averaged),
    /// is the least contrasted frame around, lies between the frames either side, and those differ over much of the picture.
    /// </summary>
    private void FindDissolve(int middle, int half)
    {
        var contrast = _contrast[middle];
        if (IsBlank(middle)
            || contrast > _settings.DissolveContrast * Math.Min(_contrast[middle - half], _contrast[middle + half])
            || Enumerable.Range(middle - half, 2 * half + 1).Any(i => _contrast[i] < contrast))
        {
            return;
        }

        var (before, after) = (Frame(middle - half), Frame(middle + half));
        if (ChangedBlocks(before, after) >= _settings.DissolveChange && BlendError(before, Frame(middle), after) <= _settings.MaxBlendError)
        {
            _boundaries.Add((middle, Found.Dissolve));
        }
    }

    private void FollowBlanks(int index)
    {
        // Dark: a white flash is blank too, and is no transition.
        if (IsBlank(index) && _brightness[index] < DarkLevel)
        {
            _blankStart ??= index;
        }
        else if (_blankStart is { } start)
        {
            (_blankStart, _blankRun) = (null, (start, index - 1));
        }

        if (_blankRun is { } run && index >= run.End + 2 * _dissolveHalf)
        {
            _blankRun = null;
            FindFadeThroughBlack(run.Start, run.End);
        }
    }

    /// <summary>
    /// A fade through black in moving pictures: a moment of dark blank frames, no longer than a dissolve, with pictures
    /// either side that differ. (A longer blank is a still of its own, and the still rule joins it to its neighbours.)
    /// </summary>
    private void FindFadeThroughBlack(int start, int end)
    {
        var reach = 2 * _dissolveHalf;
        if (start <= reach || end - start + 1 > reach)
        {
            return;
        }

        bool Picture(int from, int to) => Enumerable.Range(from, to - from + 1).Any(i => _contrast[i] >= 3 * _settings.BlankDeviation);
        if (Picture(start - reach, start - 1) && Picture(end + 1, end + reach)
            && ChangedBlocks(Frame(start - reach), Frame(end + reach)) >= _settings.MinChangedBlocks)
        {
            _boundaries.Add(((start + end) / 2, Found.Blank));
        }
    }

    private double[] BlockChangesAt(int index) => _recentBlockChanges[index % _recentBlockChanges.Length];

    private void FollowStills(int index)
    {
        if (_still is { } first)
        {
            if (ChangedBlocks(Frame(first), Frame(index)) < _settings.MinChangedBlocks / 2)
            {
                return;
            }

            (_still, _gapStart, _candidate) = (null, index, index);
            return;
        }

        if (ChangedBlocks(Frame(_candidate), Frame(index)) >= _settings.MinChangedBlocks / 2)
        {
            _candidate = index;
            return;
        }

        if (index - _candidate + 1 < _minStill)
        {
            return;
        }

        // A new still has begun at the candidate: what joined it to the last one?
        _still = _candidate;
        if (_candidate - _gapStart <= _maxTransition)
        {
            FindTransition(_gapStart, _candidate);
        }
    }

    /// <param name="gapStart">The first frame that left the last still (the still's last frame is the one before).</param>
    /// <param name="stillStart">The first frame of the new still.</param>
    private void FindTransition(int gapStart, int stillStart)
    {
        var (before, after) = (Frame(gapStart - 1), Frame(stillStart));
        var (blankBefore, blankAfter) = (IsBlank(gapStart - 1), IsBlank(stillStart));
        if ((blankBefore && blankAfter) || ChangedBlocks(before, after) < _settings.MinChangedBlocks)
        {
            return;
        }

        var boundary = (gapStart + stillStart) / 2;
        if (stillStart - gapStart > 1 && BlendError(before, Frame(boundary), after) > _settings.MaxBlendError
            && !Enumerable.Range(gapStart, stillStart - gapStart).Any(IsBlank))
        {
            return;
        }

        // Out of a blank still that a transition led into not long before (a fade out, a moment of black, a fade in):
        // one boundary, at the cut into the blank if there was one, else in the blank.
        if (blankBefore && _lastIntoBlank is { } into && gapStart - into.Frame <= _maxTransition)
        {
            _lastIntoBlank = null;
            if (into.Hard)
            {
                return;
            }

            _boundaries.Remove((into.Frame, Found.Still));
            boundary = (into.Frame + boundary) / 2;
        }

        _boundaries.Add((boundary, Found.Still));
        _lastIntoBlank = blankAfter ? (boundary, stillStart - gapStart <= 1) : null;
    }

    private byte[] Frame(int index) => _recent[index % _recent.Length];

    /// <summary>Each block's mean absolute change from <paramref name="from"/> to <paramref name="to"/>.</summary>
    private void BlockChanges(byte[] from, byte[] to, double[] changes)
    {
        var block = 0;
        foreach (var (top, rows) in _blockRows)
        {
            foreach (var (left, columns) in _blockColumns)
            {
                long sum = 0;
                for (var y = top; y < top + rows; y++)
                {
                    var row = y * _width;
                    for (var x = left; x < left + columns; x++)
                    {
                        sum += Math.Abs(to[row + x] - from[row + x]);
                    }
                }

                changes[block++] = (double)sum / (rows * columns);
            }
        }
    }

    /// <summary>The share of blocks that changed by more than <see cref="Settings.MinBlockChange"/>.</summary>
    private double ChangedBlocks(byte[] from, byte[] to)
    {
        BlockChanges(from, to, _scratch);
        return (double)_scratch.Count(change => change > _settings.MinBlockChange) / _blocks;
    }

    /// <summary>
    /// How far <paramref name="middle"/> is from a blend of the two pictures, over the pixels that differ between them:
    /// the share of their difference left unexplained by the best single mix (0 = a blend; 1 or more = something else,
    /// such as motion, or a mix so close to either picture that it is not between them).
    /// </summary>
    private double BlendError(byte[] before, byte[] middle, byte[] after)
    {
        double along = 0, squared = 0;
        for (var i = 0; i < before.Length; i++)
        {
            var difference = after[i] - before[i];
            if (Math.Abs(difference) > _settings.MinBlockChange)
            {
                along += (middle[i] - before[i]) * (double)difference;
                squared += (double)difference * difference;
            }
        }

        var mix = squared == 0 ? 0 : along / squared;
        if (mix is < 0.15 or > 0.85)
        {
            return 1;
        }

        double off = 0, apart = 0;
        for (var i = 0; i < before.Length; i++)
        {
            var difference = after[i] - before[i];
            if (Math.Abs(difference) > _settings.MinBlockChange)
            {
                off += Math.Abs(middle[i] - before[i] - mix * difference);
                apart += Math.Abs(difference) * Math.Min(mix, 1 - mix);
            }
        }

        return off / apart;
    }

    private bool IsBlank(int index) => _contrast[index] < _settings.BlankDeviation;

    /// <summary>The mean of the frame's pixels and their standard deviation (its contrast).</summary>
    private static (double Brightness, double Contrast) Measure(byte[] frame)
    {
        double sum = 0, squares = 0;
        foreach (var pixel in frame)
        {
            sum += pixel;
            squares += pixel * pixel;
        }

        var mean = sum / frame.Length;
        return (mean, Math.Sqrt(Math.Max(0, squares / frame.Length - mean * mean)));
    }

    private static (int Start, int Length)[] Spans(int size, int blockSize) =>
        [.. Enumerable.Range(0, (size + blockSize - 1) / blockSize).Select(i => (i * blockSize, Math.Min(blockSize, size - i * blockSize)))];

    /// <summary>ffmpeg arguments that decode <paramref name="input"/>'s first video stream to raw grey frames of this size on stdout.</summary>
    public static IReadOnlyList<string> DecodeArguments(string input, int width, int height) =>
        ["-i", input, "-map", "0:v:0", "-vf", Frames(width, height), "-f", "rawvideo", "-"];

    /// <summary>The ffmpeg filter that makes the frames the detector compares: every frame, this size, grey.</summary>
    public static string Frames(int width, int height) => $"scale={width}:{height}:flags=area,format=gray";

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
