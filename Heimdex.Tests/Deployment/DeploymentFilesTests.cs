using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Heimdex.AppHost.Provisioning;
using Heimdex.Conventions;
using Heimdex.Search;
using Heimdex.Shared.Models;
using Heimdex.Shared.People;
using Heimdex.Shared.Uploads;
using Heimdex.Tests.AppHost;
using Heimdex.Worker.Pipeline;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace Heimdex.Tests.Deployment;

/// <summary>
/// <c>deploy/</c> runs the same services with the same contracts as the AppHost: only configuration the services
/// read, with values their options accept; the migration command, health routes and connection names they define;
/// the worker image with the system packages the AppHost's worker resource declares.
/// </summary>
public sealed class DeploymentFilesTests
{
    private static readonly string Kubernetes = Path.Combine(TestFiles.RepositoryRoot, "deploy", "kubernetes");

    /// <summary>Every options class of the services, by its configuration section.</summary>
    private static readonly Dictionary<string, Type> OptionsBySection = new[]
        {
            typeof(SearchOptions), typeof(PipelineOptions), typeof(UploadOptions), typeof(ModelOptions), typeof(PeopleOptions),
        }
        .ToDictionary(type => (string)type.GetField("Section", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!);

    /// <summary>Variables of the platform (.NET, ASP.NET Core, OpenTelemetry) rather than of Heimdex's options.</summary>
    private static readonly string[] PlatformPrefixes = ["DOTNET_", "ASPNETCORE_", "OTEL_"];

    private static List<YamlMappingNode> Documents(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Kubernetes, file));
        stream.Load(reader);
        return [.. stream.Documents.Select(document => (YamlMappingNode)document.RootNode)];
    }

    private static YamlMappingNode Kind(string file, string kind) => Documents(file).Single(d => Scalar(d, "kind") == kind);

    private static YamlNode At(YamlNode node, params string[] keys) =>
        keys.Aggregate(node, (current, key) => current is YamlSequenceNode sequence ? sequence[int.Parse(key, System.Globalization.CultureInfo.InvariantCulture)] : ((YamlMappingNode)current)[key]);

    private static string Scalar(YamlNode node, params string[] keys) => ((YamlScalarNode)At(node, keys)).Value!;

    private static YamlMappingNode Container(YamlNode workload) => (YamlMappingNode)At(workload, "spec", "template", "spec", "containers", "0");

    private static Dictionary<string, string> Data(string file, string kind, string field) =>
        ((YamlMappingNode)At(Kind(file, kind), field)).Children.ToDictionary(pair => ((YamlScalarNode)pair.Key).Value!, pair => ((YamlScalarNode)pair.Value).Value!);

    [Fact]
    public void Every_setting_is_configuration_a_service_reads_and_its_options_accept()
    {
        var settings = Data("settings.yaml", "ConfigMap", "data");
        var connections = Data("connections.example.yaml", "Secret", "stringData");
        var containerEnvironment = new[] { "api.yaml", "worker.yaml", "migrations.yaml" }
            .SelectMany(file => Documents(file).Where(d => Scalar(d, "kind") is "Deployment" or "Job"))
            .SelectMany(workload => Container(workload).Children.TryGetValue("env", out var env) ? ((YamlSequenceNode)env).Children : [])
            .Select(variable => Scalar(variable, "name"));

        Assert.Equal(
            [$"ConnectionStrings__{ConnectionNames.Database}", $"ConnectionStrings__{ConnectionNames.Redis}", $"ConnectionStrings__{ConnectionNames.Storage}", MigrationStep.AdminKeyVariable],
            connections.Keys.Order());
        foreach (var name in settings.Keys.Concat(containerEnvironment).Where(name => !PlatformPrefixes.Any(name.StartsWith)))
        {
            var parts = name.Split("__");
            Assert.True(OptionsBySection.TryGetValue(parts[0], out var options), $"{name}: no options section {parts[0]}");
            Assert.True(options.GetProperty(parts[1]) is { CanWrite: true }, $"{name}: {options.Name} has no setting {parts[1]}");
        }

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(pair => KeyValuePair.Create(pair.Key.Replace("__", ":", StringComparison.Ordinal), (string?)pair.Value)))
            .Build();
        foreach (var (section, type) in OptionsBySection)
        {
            var options = Activator.CreateInstance(type)!;
            configuration.GetSection(section).Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
            Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        }

        Assert.Equal(20L * 1024 * 1024 * 1024, configuration.GetSection(UploadOptions.Section).Get<UploadOptions>()!.MaxBytes);
    }

    [Fact]
    public void The_manifests_run_the_migration_step_first_check_health_where_the_services_serve_it_and_scale_out()
    {
        var migrations = Kind("migrations.yaml", "Job");
        var api = Kind("api.yaml", "Deployment");
        var worker = Kind("worker.yaml", "Deployment");

        Assert.Equal(MigrationStep.Command, Scalar(Container(migrations), "args", "0"));
        Assert.Equal(Scalar(Container(api), "image"), Scalar(Container(migrations), "image"));
        foreach (var service in new[] { api, worker })
        {
            Assert.Equal(ServiceEndpoints.Health, Scalar(Container(service), "readinessProbe", "httpGet", "path"));
            Assert.Equal(ServiceEndpoints.Alive, Scalar(Container(service), "livenessProbe", "httpGet", "path"));
            Assert.Equal(Scalar(Container(service), "ports", "0", "containerPort"), Scalar(Container(service), "readinessProbe", "httpGet", "port"));
        }

        Assert.True(int.Parse(Scalar(api, "spec", "replicas"), System.Globalization.CultureInfo.InvariantCulture) >= 2);
        Assert.True(int.Parse(Scalar(worker, "spec", "replicas"), System.Globalization.CultureInfo.InvariantCulture) >= 3);

        // Each API replica's HNSW snapshots are on a volume of its own.
        var snapshots = Data("settings.yaml", "ConfigMap", "data")["Search__SnapshotDirectory"];
        Assert.Contains(((YamlSequenceNode)At(Container(api), "volumeMounts")).Children, mount => Scalar(mount, "mountPath") == snapshots);

        var listed = ((YamlSequenceNode)At(Documents("kustomization.yaml")[0], "resources")).Children.Select(r => ((YamlScalarNode)r).Value!).ToList();
        Assert.All(listed.Where(file => file != "connections.yaml"), file => Assert.True(File.Exists(Path.Combine(Kubernetes, file)), file));
    }

    [Fact]
    public async Task The_worker_image_installs_every_system_package_the_AppHost_worker_declares()
    {
        var dataDirectory = TestGraph.NewDataDirectory();
        try
        {
            await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Heimdex_AppHost>(
                ["--data-dir", dataDirectory], TestContext.Current.CancellationToken);
            var declared = builder.Resources.Single(r => r.Name == ServiceNames.Worker).Annotations.OfType<SystemRequirementAnnotation>()
                .Select(a => a.Requirement).Where(r => r != SystemRequirement.Npm) // npm only installs models, in the image's build stage
                .Select(r => r.DebianPackage).ToHashSet();
            var dockerfile = await File.ReadAllTextAsync(Path.Combine(TestFiles.RepositoryRoot, "deploy", "Dockerfile"), TestContext.Current.CancellationToken);
            var workerStage = dockerfile[dockerfile.IndexOf(" AS worker", StringComparison.Ordinal)..];
            var installed = workerStage.Split('\n').Single(line => line.Contains("apt-get install", StringComparison.Ordinal))
                .Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipWhile(word => !word.StartsWith("--no-install", StringComparison.Ordinal)).Skip(1)
                .TakeWhile(word => word != "\\").ToHashSet();
            Assert.NotEmpty(declared);
            Assert.Subset(installed, declared);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
