using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Heimdex.Tests.Deployment;

/// <summary><c>deploy/kubernetes</c> read as a cluster reads it.</summary>
public static class KubernetesManifests
{
    private static readonly string Directory = Path.Combine(TestFiles.RepositoryRoot, "deploy", "kubernetes");

    public static string PathOf(string file) => Path.Combine(Directory, file);

    public static List<YamlMappingNode> Documents(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(PathOf(file));
        stream.Load(reader);
        return [.. stream.Documents.Select(document => (YamlMappingNode)document.RootNode)];
    }

    public static YamlMappingNode Kind(string file, string kind) => Documents(file).Single(d => ValueAt(d, "kind") == kind);

    public static YamlNode At(YamlNode node, params string[] keys) =>
        keys.Aggregate(node, (current, key) => current is YamlSequenceNode sequence ? sequence[int.Parse(key, CultureInfo.InvariantCulture)] : ((YamlMappingNode)current)[key]);

    public static string ValueAt(YamlNode node, params string[] keys) => ((YamlScalarNode)At(node, keys)).Value!;

    public static IEnumerable<YamlNode> Sequence(YamlNode node, string key) =>
        ((YamlMappingNode)node).Children.TryGetValue(key, out var items) ? ((YamlSequenceNode)items).Children : [];

    public static YamlMappingNode Container(YamlNode workload) => (YamlMappingNode)At(workload, "spec", "template", "spec", "containers", "0");

    public static Dictionary<string, string> Entries(string file, string kind, string field) =>
        ((YamlMappingNode)At(Kind(file, kind), field)).Children.ToDictionary(pair => ((YamlScalarNode)pair.Key).Value!, pair => ((YamlScalarNode)pair.Value).Value!);

    /// <summary>
    /// The container's environment as Kubernetes composes it: the image's own, then each <c>envFrom</c> source in
    /// order (a ConfigMap's or Secret's entries, from <paramref name="sources"/> by name), then <c>env</c>, later ones winning.
    /// </summary>
    public static Dictionary<string, string> Environment(
        YamlMappingNode container, IReadOnlyDictionary<string, string> image, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> sources)
    {
        var environment = new Dictionary<string, string>(image);
        foreach (var source in Sequence(container, "envFrom").Cast<YamlMappingNode>())
        {
            var reference = source.Children.Keys.Cast<YamlScalarNode>().Single(key => key.Value is "configMapRef" or "secretRef").Value!;
            foreach (var (name, value) in sources[ValueAt(source, reference, "name")])
            {
                environment[name] = value;
            }
        }

        foreach (var variable in Sequence(container, "env"))
        {
            environment[ValueAt(variable, "name")] = ValueAt(variable, "value");
        }

        return environment;
    }
}
