using Heimdex.Shared.People;
using System.Numerics.Tensors;
using Heimdex.Shared.Models;
using Heimdex.Shared.Faces;
using Heimdex.Worker.People;

namespace Heimdex.Bench;

/// <summary>
/// How a person made from two reference photos should be compared with faces: the normalised mean of the photos'
/// embeddings, or the best of the photos one by one. Printed: the lowest same-person and the highest different-person
/// similarity for each, and the margin between them (bigger separates better), on the shared faces (LABELS.md).
/// </summary>
public sealed class PeopleBenchmark(string facesDirectory)
{
    private static readonly (string Person, string[] References)[] People =
    [
        ("obama", ["obama_1.jpg", "obama_2.jpg"]),
        ("obama", ["obama_3.jpg", "obama_4.jpg"]),
        ("biden", ["biden_1.jpg", "biden_2.jpg"]),
    ];

    public Task RunAsync()
    {
        using var analyzer = new FaceAnalyzer(new ModelOptions());
        var options = new PeopleOptions();
        var faces = new List<(string File, string Person, float[] Embedding)>();
        foreach (var file in Directory.GetFiles(facesDirectory, "*.jpg").Order())
        {
            var name = Path.GetFileName(file);
            var found = analyzer.Analyze(file).OrderBy(f => f.Detection.X).ToList();
            string[] labels = name == "obama_and_biden.jpg" ? ["biden", "obama", "child"] : [name.Split('_')[0]];
            faces.AddRange(found.Zip(labels, (face, label) => (name, label, face.Embedding)));
        }

        Console.WriteLine($"{"person from",-28} {"strategy",-8} {"min same",9} {"max other",10} {"margin",7}");
        foreach (var (person, references) in People)
        {
            var photos = references.Select(r => faces.Single(f => f.File == r).Embedding).ToList();
            var mean = FaceMatching.PersonEmbedding(photos)!;
            var targets = faces.Where(f => !references.Contains(f.File)).ToList();
            Print(person, references, "mean", targets, face => TensorPrimitives.Dot(face, mean));
            Print(person, references, "best-of", targets, face => photos.Max(photo => TensorPrimitives.Dot(face, photo)));
        }

        Console.WriteLine($"match threshold: {options.MatchThreshold}");
        return Task.CompletedTask;
    }

    private static void Print(string person, string[] references, string strategy, List<(string File, string Person, float[] Embedding)> targets, Func<float[], float> score)
    {
        var same = targets.Where(t => t.Person == person).Min(t => score(t.Embedding));
        var other = targets.Where(t => t.Person != person).Max(t => score(t.Embedding));
        Console.WriteLine($"{string.Join('+', references),-28} {strategy,-8} {same,9:0.000} {other,10:0.000} {same - other,7:0.000}");
    }
}
