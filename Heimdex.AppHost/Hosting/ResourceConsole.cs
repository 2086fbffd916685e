using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Heimdex.AppHost.Hosting;

/// <summary>
/// What the AppHost tells people and scripts: a line per state change, each child's output prefixed with its name,
/// the endpoint table once everything is healthy, and <c>endpoints.json</c> kept current in the data directory.
/// </summary>
public sealed class ResourceConsole(string dataDirectory, IReadOnlyList<Resource> resources)
{
    public const string EndpointsFileName = "endpoints.json";
    private const int NameWidth = 9;
    private readonly Lock _gate = new();

    public string EndpointsFile => Path.Combine(dataDirectory, EndpointsFileName);

    public void Info(string message) => Write($"{Now()} {"apphost",-NameWidth} {message}");

    public void Output(Resource resource, string line) => Write($"{resource.Name,-NameWidth}| {line}");

    public void StateChanged(Resource resource, string? detail = null)
    {
        Write($"{Now()} {resource.Name,-NameWidth} {resource.State.ToString().ToLowerInvariant()}{(detail is null ? "" : " — " + detail)}");
        WriteEndpointsFile();
    }

    public void AllHealthy()
    {
        var rows = resources.SelectMany(r => r.Endpoints).ToList();
        var width = rows.Max(r => r.Name.Length) + 2;
        lock (_gate)
        {
            Console.WriteLine();
            Console.WriteLine($"{Now()} all resources healthy — Heimdex is running. Ctrl-C stops everything.");
            foreach (var row in rows)
            {
                Console.WriteLine($"  {row.Name.PadRight(width)}{row.Url}");
            }

            Console.WriteLine($"  {"endpoints".PadRight(width)}{EndpointsFile}");
            Console.WriteLine();
        }

        WriteEndpointsFile();
    }

    /// <summary>Resource name → URL and state, plus the connection strings (the file is private to this user).</summary>
    public void WriteEndpointsFile()
    {
        if (!Directory.Exists(dataDirectory))
        {
            return;
        }

        // Ports and credentials are settled once a resource has started; before that it has no address to give.
        bool Started(Resource r) => r.State is not (ResourceState.Waiting or ResourceState.Starting);
        var document = new JsonObject
        {
            ["allHealthy"] = resources.All(r => r.IsReady),
            ["resources"] = new JsonObject(resources.Select(r => KeyValuePair.Create(r.Name, (JsonNode?)new JsonObject
            {
                ["state"] = r.State.ToString().ToLowerInvariant(),
                ["pid"] = r.ProcessId,
                ["url"] = Started(r) ? r.Endpoints.FirstOrDefault()?.Url : null,
                ["endpoints"] = new JsonObject(Started(r) ? r.Endpoints.Skip(1).Select(e => KeyValuePair.Create(e.Name, (JsonNode?)e.Url)) : []),
            }))),
            ["connectionStrings"] = new JsonObject(resources.OfType<IResourceWithConnectionString>()
                .Concat(resources.OfType<PostgresResource>().SelectMany(p => p.Databases))
                .Where(c => Started(c.Owner))
                .Select(c => KeyValuePair.Create(c.ConnectionName, (JsonNode?)c.ConnectionString))),
        };
        lock (_gate)
        {
            HostContext.WritePrivateFile(EndpointsFile, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
    }

    private void Write(string line)
    {
        lock (_gate)
        {
            Console.WriteLine(line);
        }
    }

    private static string Now() => DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
