using Heimdex.Shared.People;
using System.Numerics.Tensors;
using Heimdex.Shared.Faces;

namespace Heimdex.Worker.People;

/// <summary>The rules that turn faces into people: which face in a reference photo is the subject, and who a face is.</summary>
public static class FaceMatching
{
    /// <summary>The subject of a reference photo, or why the photo cannot serve as one.</summary>
    public static (AnalyzedFace? Subject, string? Problem) ChooseSubject(IReadOnlyList<AnalyzedFace> faces, PeopleOptions options)
    {
        if (faces.Count == 0)
        {
            return (null, "no face was found in the photo");
        }

        var bySize = faces.OrderByDescending(f => f.Detection.Width * f.Detection.Height).ToList();
        var subject = bySize[0];
        if (bySize.Count > 1 && Area(subject) < options.SubjectDominance * Area(bySize[1]))
        {
            return (null, $"the photo shows {faces.Count} faces and none is clearly the subject; use a photo where this person's face is the largest");
        }

        var size = Math.Min(subject.Detection.Width, subject.Detection.Height);
        if (size < options.MinFaceSize)
        {
            return (null, $"the face is too small ({size:0} px across; at least {options.MinFaceSize:0} px are needed)");
        }

        return subject.Sharpness < options.MinSharpness
            ? (null, "the face is too blurred to recognise; use a sharper photo")
            : (subject, null);

        static float Area(AnalyzedFace face) => face.Detection.Width * face.Detection.Height;
    }

    /// <summary>
    /// A person's embedding: the normalised mean of their reference faces. On the shared photos it separates
    /// better than matching each photo separately (see bench `people`): same-person similarity rises, different-person
    /// similarity stays put.
    /// </summary>
    public static float[]? PersonEmbedding(IReadOnlyList<float[]> photoEmbeddings)
    {
        if (photoEmbeddings.Count == 0)
        {
            return null;
        }

        var sum = new float[photoEmbeddings[0].Length];
        foreach (var embedding in photoEmbeddings)
        {
            TensorPrimitives.Add(sum, embedding, sum);
        }

        TensorPrimitives.Divide(sum, TensorPrimitives.Norm(sum), sum);
        return sum;
    }

    /// <summary>The person most like <paramref name="face"/>, if any is like it above the threshold.</summary>
    public static Guid? BestPerson(float[] face, IEnumerable<(Guid Id, float[] Embedding)> people, float threshold) =>
        people.Select(person => (person.Id, Similarity: TensorPrimitives.Dot(face, person.Embedding)))
            .Where(match => match.Similarity >= threshold)
            .OrderByDescending(match => match.Similarity)
            .Select(match => (Guid?)match.Id)
            .FirstOrDefault();
}
