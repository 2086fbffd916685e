using System.Text.Json;

namespace Heimdex.Tests.Deployment;

/// <summary>
/// What a container of one stage of <c>deploy/Dockerfile</c> starts with: the environment, working directory and entry
/// point the stage and the stages it is built <c>FROM</c> set, and the commands they <c>RUN</c>.
/// </summary>
public sealed record ImageStage(IReadOnlyDictionary<string, string> Environment, string WorkingDirectory, IReadOnlyList<string> Entrypoint, IReadOnlyList<string> Runs)
{
    private static readonly string Dockerfile = Path.Combine(TestFiles.RepositoryRoot, "deploy", "Dockerfile");

    public static async Task<ImageStage> ReadAsync(string target)
    {
        var text = await File.ReadAllTextAsync(Dockerfile, TestContext.Current.CancellationToken);
        var stages = new Dictionary<string, (string Base, List<(string Keyword, string Arguments)> Instructions)>();
        var current = new List<(string Keyword, string Arguments)>();
        foreach (var line in text.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith('#')))
        {
            var (keyword, arguments) = (line.Split(' ', 2)[0].ToUpperInvariant(), line.Split(' ', 2)[1]);
            if (keyword == "FROM")
            {
                var words = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries); // base AS name
                current = [];
                stages[words[^1]] = (words[0], current);
            }
            else
            {
                current.Add((keyword, arguments));
            }
        }

        var chain = new List<(string Keyword, string Arguments)>();
        for (var stage = target; stages.TryGetValue(stage, out var found); stage = found.Base)
        {
            chain.InsertRange(0, found.Instructions);
        }

        Assert.NotEmpty(chain);
        var environment = new Dictionary<string, string>();
        var (workingDirectory, entrypoint, runs) = ("/", new List<string>(), new List<string>());
        foreach (var (keyword, arguments) in chain)
        {
            switch (keyword)
            {
                case "ENV":
                    Assert.DoesNotContain('"', arguments); // only the unquoted name=value form is read here
                    foreach (var pair in arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(pair => pair.Split('=', 2)))
                    {
                        environment[pair[0]] = pair[1];
                    }

                    break;
                case "WORKDIR":
                    workingDirectory = arguments;
                    break;
                case "ENTRYPOINT":
                    entrypoint = JsonSerializer.Deserialize<List<string>>(arguments)!;
                    break;
                case "RUN":
                    runs.Add(arguments);
                    break;
            }
        }

        return new ImageStage(environment, workingDirectory, entrypoint, runs);
    }
}
