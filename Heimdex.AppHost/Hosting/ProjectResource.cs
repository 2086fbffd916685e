using Heimdex.Shared;
using Heimdex.Shared.Models;

namespace Heimdex.AppHost.Hosting;

/// <summary>
/// One of Heimdex's own services, run from its build output. Everything it learns about the graph arrives as
/// environment variables: <c>ConnectionStrings__*</c> for references, <c>OTEL_*</c>, and the URL to listen on.
/// </summary>
public sealed class ProjectResource(string name, string assemblyPath) : Resource(name)
{
    private readonly List<IResourceWithConnectionString> _references = [];
    private readonly List<SystemRequirement> _requirements = [];
    private readonly List<ModelPackage> _models = [];
    private readonly List<ResourceEndpoint> _links = [];
    private readonly List<string> _arguments = [];
    private readonly Dictionary<string, Func<HostContext, string>> _environment = [];
    private bool _oneShot;
    private int? _port;

    public override IEnumerable<SystemRequirement> Requirements => _models.Count > 0 ? [.. _requirements, SystemRequirement.Npm] : _requirements;

    public override IEnumerable<ModelPackage> Models => _models;

    public override bool RestartOnExit => !_oneShot;

    public override bool IsOneShot => _oneShot;

    public Uri Url => new($"http://127.0.0.1:{_port}");

    public override IReadOnlyList<ResourceEndpoint> Endpoints => _port is null || _oneShot
        ? []
        : [new(Name, Url.ToString().TrimEnd('/')), .. _links.Select(link => link with { Url = new Uri(Url, link.Url).ToString() })];

    public ProjectResource WithReference(IResourceWithConnectionString reference)
    {
        _references.Add(reference);
        return this;
    }

    /// <summary>A fixed port (the API's, which users bookmark); without it a free one is chosen at first start.</summary>
    public ProjectResource WithHttpEndpoint(int? port = null)
    {
        _port = port;
        return this;
    }

    public ProjectResource WithLink(string name, string path)
    {
        _links.Add(new ResourceEndpoint(name, path));
        return this;
    }

    /// <summary>Runs the project once with <paramref name="arguments"/> (a command such as <c>migrate</c>) instead of as a service.</summary>
    public ProjectResource AsOneShot(params string[] arguments)
    {
        _oneShot = true;
        _arguments.AddRange(arguments);
        return this;
    }

    /// <summary>An environment variable whose value is settled when the process starts (a secret from the data directory).</summary>
    public ProjectResource WithEnvironment(string name, Func<HostContext, string> value)
    {
        _environment[name] = value;
        return this;
    }

    /// <summary>Model packages the service loads; it finds them in the model cache through <c>Models__CacheDirectory</c>.</summary>
    public ProjectResource WithModels(params ModelPackage[] packages)
    {
        _models.AddRange(packages);
        return this;
    }

    public ProjectResource WithRequirement(params SystemRequirement[] requirements)
    {
        _requirements.AddRange(requirements);
        return this;
    }

    public override Task<ProcessSpec> PrepareAsync(HostContext context, CancellationToken cancellationToken)
    {
        if (!File.Exists(assemblyPath))
        {
            throw new HostingException($"{Name}: {assemblyPath} does not exist; build the solution (dotnet build) first.");
        }

        _port ??= HostContext.FreePort();
        if (!_oneShot && !HostContext.IsPortFree(_port.Value))
        {
            throw new HostingException($"{Name}: port {_port} is already in use (is another Heimdex running?). " +
                                       "Stop it, or choose another port with --api-port.");
        }

        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = Url.ToString(),
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["OTEL_SERVICE_NAME"] = Name,
        };
        if (context.Options.OtlpEndpoint is { } otlp)
        {
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp;
        }

        if (_models.Count > 0)
        {
            environment[$"{ModelOptions.Section}__{nameof(ModelOptions.CacheDirectory)}"] = context.Options.ModelCacheDirectory;
        }

        foreach (var reference in _references)
        {
            environment[$"ConnectionStrings__{reference.ConnectionName}"] = reference.ConnectionString;
        }

        foreach (var (name, value) in _environment)
        {
            environment[name] = value(context);
        }

        return Task.FromResult(new ProcessSpec(DotnetHost.Path, [assemblyPath, .. _arguments], environment, Path.GetDirectoryName(assemblyPath)!));
    }

    public override async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            using var response = await http.GetAsync(new Uri(Url, Microsoft.Extensions.Hosting.ServiceDefaultsExtensions.HealthPath), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
