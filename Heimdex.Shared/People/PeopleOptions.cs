using System.ComponentModel.DataAnnotations;

namespace Heimdex.Shared.People;

/// <summary>How reference photos are judged and faces matched to people (configuration section <c>People</c>).</summary>
public sealed class PeopleOptions
{
    public const string Section = "People";

    /// <summary>Cosine similarity between a face and a person's embedding above which the face is that person.</summary>
    [Range(0.0, 1.0)]
    public float MatchThreshold { get; set; } = Faces.FaceAnalyzer.DefaultMatchThreshold;

    /// <summary>A reference face narrower than this (pixels, in the photo) is too small to recognise anyone by.</summary>
    [Range(1, 10_000)]
    public float MinFaceSize { get; set; } = 48;

    /// <summary>Laplacian variance of the aligned face below which a reference photo is too blurred.</summary>
    [Range(0.0, 10.0)]
    public float MinSharpness { get; set; } = 0.004f;

    /// <summary>With several faces, the largest is the subject only if it is this many times the area of the next.</summary>
    [Range(1.0, 100.0)]
    public float SubjectDominance { get; set; } = 2.5f;
}
