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
using static Heimdex.Tests.Deployment.KubernetesManifests;

namespace Heimdex.Tests.Deployment;

/// <summary>
/// <c>deploy/</c> runs the same services with the same contracts as the AppHost: only configuration the services
/// read, with values their options accept; the migration command, health routes and connection names they define;
/// the worker image with the system packages the AppHost's worker resource declares.
/// </summary>
public sealed class DeploymentFilesTests
{
    /// <summary>Every options class of the services, by its configuration section.</summary>
    private static readonly Dictionary<string, Type> OptionsBySection = new[]
        {
            typeof(SearchOptions), typeof(PipelineOptions), typeof(UploadOptions), typeof(ModelOptions), typeof(PeopleOptions),
        }
        .ToDictionary(type => (string)type.GetField("Section", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!);

    /// <summary>Variables of the platform (.NET, ASP.NET Core, OpenTelemetry) rather than of Heimdex's options.</summary>
    private static readonly string[] PlatformPrefixes = ["DOTNET_", "ASPNETCORE_", "OTEL_"];

    [Fact]
    public void Every_setting_is_configuration_a_service_reads_and_its_options_accept()
    {
        var settings = Entries("settings.yaml", "ConfigMap", "data");
        var connections = Entries("connections.example.yaml", "Secret", "stringData");
        var containerEnvironment = new[] { "api.yaml", "worker.yaml", "migrations.yaml" }
            .SelectMany(file => Documents(file).Where(d => ValueAt(d, "kind") is "Deployment" or "Job"))
            .SelectMany(workload => Sequence(Container(workload), "env"))
            .Select(variable => ValueAt(variable, "name"));

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

        Assert.Equal(MigrationStep.Command, ValueAt(Container(migrations), "args", "0"));
        Assert.Equal(ValueAt(Container(api), "image"), ValueAt(Container(migrations), "image"));
        foreach (var service in new[] { api, worker })
        {
            Assert.Equal(ServiceEndpoints.Health, ValueAt(Container(service), "readinessProbe", "httpGet", "path"));
            Assert.Equal(ServiceEndpoints.Alive, ValueAt(Container(service), "livenessProbe", "httpGet", "path"));
            Assert.Equal(ValueAt(Container(service), "ports", "0", "containerPort"), ValueAt(Container(service), "readinessProbe", "httpGet", "port"));
        }

        Assert.True(int.Parse(ValueAt(api, "spec", "replicas"), System.Globalization.CultureInfo.InvariantCulture) >= 2);
        Assert.True(int.Parse(ValueAt(worker, "spec", "replicas"), System.Globalization.CultureInfo.InvariantCulture) >= 3);

        // Each API replica's HNSW snapshots are on a volume of its own.
        var snapshots = Entries("settings.yaml", "ConfigMap", "data")["Search__SnapshotDirectory"];
        Assert.Contains(((YamlSequenceNode)At(Container(api), "volumeMounts")).Children, mount => ValueAt(mount, "mountPath") == snapshots);

        var listed = ((YamlSequenceNode)At(Documents("kustomization.yaml")[0], "resources")).Children.Select(r => ((YamlScalarNode)r).Value!).ToList();
        Assert.All(listed.Where(file => file != "connections.yaml"), file => Assert.True(File.Exists(PathOf(file)), file));
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
            var installed = (await ImageStage.ReadAsync("worker")).Runs.Single(run => run.Contains("apt-get install", StringComparison.Ordinal))
                .Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipWhile(word => !word.StartsWith("--no-install", StringComparison.Ordinal)).Skip(1)
                .TakeWhile(word => word != "&&").ToHashSet();
            Assert.NotEmpty(declared);
            Assert.Subset(installed, declared);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
