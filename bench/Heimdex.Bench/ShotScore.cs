namespace Heimdex.Bench;

/// <summary>
/// Found boundaries against the true ones, each matched at most once: a cut within one frame, a gradual transition
/// within half a second of its middle.
/// </summary>
public sealed record ShotScore(int Truth, int Found, int TrueFound, int Cuts, int CutsFound, int Transitions, int TransitionsFound)
{
    public double Precision => Found == 0 ? (Truth == 0 ? 1 : 0) : (double)TrueFound / Found;

    public double Recall => Truth == 0 ? (Found == 0 ? 1 : 0) : (double)(CutsFound + TransitionsFound) / Truth;

    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);

    public double CutRecall => Cuts == 0 ? 1 : (double)CutsFound / Cuts;

    public double TransitionRecall => Transitions == 0 ? 1 : (double)TransitionsFound / Transitions;

    /// <param name="frameRate">Frames per second, for a transition's half-second tolerance (0: there are no transitions).</param>
    public static ShotScore Of(IReadOnlyList<ShotBoundary> truth, IReadOnlyList<int> found, double frameRate)
    {
        var unmatched = found.ToList();
        int cutsFound = 0, transitionsFound = 0;
        foreach (var boundary in truth)
        {
            var tolerance = boundary.Gradual ? 0.5 * frameRate : 1;
            var match = unmatched.Where(f => Math.Abs(f - boundary.Frame) <= tolerance).OrderBy(f => Math.Abs(f - boundary.Frame)).Cast<int?>().FirstOrDefault();
            if (match is { } frame)
            {
                unmatched.Remove(frame);
                _ = boundary.Gradual ? transitionsFound++ : cutsFound++;
            }
        }

        return new ShotScore(truth.Count, found.Count, found.Count - unmatched.Count, truth.Count(b => !b.Gradual), cutsFound, truth.Count(b => b.Gradual), transitionsFound);
    }

    public static ShotScore operator +(ShotScore a, ShotScore b) => new(a.Truth + b.Truth, a.Found + b.Found, a.TrueFound + b.TrueFound,
        a.Cuts + b.Cuts, a.CutsFound + b.CutsFound, a.Transitions + b.Transitions, a.TransitionsFound + b.TransitionsFound);
}
