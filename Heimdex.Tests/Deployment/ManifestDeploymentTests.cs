using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Heimdex.AppHost.Resources;
using Heimdex.Conventions;
using Heimdex.Shared.Models;
using Heimdex.Tests.AppHost;
using Heimdex.Tests.Pipeline;
using Heimdex.Tests.ScaleOut;
using Heimdex.Tests.Uploads;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using StackExchange.Redis;
using YamlDotNet.RepresentationModel;
using static Heimdex.Tests.Deployment.KubernetesManifests;

namespace Heimdex.Tests.Deployment;

/// <summary>
/// <c>deploy/</c> applied as far as a machine without a cluster or a container runtime can: each workload's container
/// runs as a process, with the environment Kubernetes gives it (the image's, the ConfigMap, the Secret filled in as its
/// example says, the container's own), its image's entry point and the container's arguments, its volumes and port
/// mapped to folders and a free port here, against a graph's servers standing in for external ones.
/// </summary>
[Collection(AppHostCollection.Name)]
public sealed class ManifestDeploymentTests
{
    /// <summary>The images the manifests name, as deploy/Dockerfile builds them: the stage, and the project its application folder holds.</summary>
    private static readonly Dictionary<string, (string Stage, string Project)> Images = new()
    {
        ["heimdex-api"] = ("api", new Projects.Heimdex_Api().ProjectPath),
        ["heimdex-worker"] = ("worker", new Projects.Heimdex_Worker().ProjectPath),
    };

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task On_empty_servers_the_manifests_migrate_then_run_an_API_and_a_worker_that_index_a_video_and_find_it()
    {
        await using var graph = await TestGraph.StartAsync();
        await graph.WaitForHealthyAsync(ServiceNames.Api, ServiceNames.Worker);
        // Only the graph's servers stay: the deployed services take the place of its own.
        await graph.StopAsync(ServiceNames.Api);
        await graph.StopAsync(ServiceNames.Worker);
        var secret = await FillInConnectionsAsync(graph);
        var scratch = TestGraph.NewDataDirectory();
        try
        {
            // The Job, then again: the next version's deployment runs it over a database already migrated.
            for (var run = 1; run <= 2; run++)
            {
                await using var migrations = await Workload.StartAsync(Kind("migrations.yaml", "Job"), secret, scratch);
                Assert.True(await migrations.ExitCodeAsync(TimeSpan.FromMinutes(3)) == 0, $"the migration Job's run {run} failed:\n{migrations.Output}");
            }

            await using var api = await Workload.StartAsync(Kind("api.yaml", "Deployment"), secret, scratch);
            await using var worker = await Workload.StartAsync(Kind("worker.yaml", "Deployment"), secret, scratch);
            await api.WaitUntilReadyAndLiveAsync();
            await worker.WaitUntilReadyAndLiveAsync();

            using var admin = TestGraph.Client(api.Address, secret[MigrationStep.AdminKeyVariable]);
            using var client = TestGraph.Client(api.Address, await HeimdexGraph.CreateUserAsync(admin, "deployed"));
            var media = await MediaFactory.SlideThenPhotoAsync("Quokka harbour", TestFiles.SharedMedia("faces", "biden_1.jpg"), TestFiles.SharedMedia("audio", "jfk.wav"), seconds: 6);
            var id = await VideoUploadTests.UploadAsync(client, await File.ReadAllBytesAsync(media, Cancellation), "quokka.mp4");
            var video = await PipelineTests.WaitForAsync(client, id, v => v.GetProperty("state").GetString() is "indexed" or "failed" || worker.HasExited,
                "indexed by the deployed worker", seconds: 300);
            Assert.True(video.GetProperty("state").GetString() == "indexed", $"{video}\nthe worker said:\n{worker.Output}");
            await Eventually.PollAsync(() => ScaleOutTests.TopHitAsync(client, "quokka"), hit => hit?.VideoId == id && hit.Semantic is not null,
                $"the deployed API finding video {id} by its slide's word, with a semantic score", seconds: 60);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>
    /// The operator's part, as connections.example.yaml asks: a role owning its database, the extensions a superuser
    /// must make in it, and the example's connection strings pointed at the servers, with a new administrator's key.
    /// </summary>
    private static async Task<Dictionary<string, string>> FillInConnectionsAsync(TestGraph graph)
    {
        var model = graph.App.Services.GetRequiredService<DistributedApplicationModel>();
        var superuser = new NpgsqlConnectionStringBuilder(
            await ((IResourceWithConnectionString)model.Resources.OfType<PostgresServerResource>().Single()).GetConnectionStringAsync(Cancellation));
        var (role, password) = ("heimdex_deployed", Guid.NewGuid().ToString("N"));
        await using (var server = NpgsqlDataSource.Create(superuser.ConnectionString))
        {
            await server.CreateCommand($"CREATE ROLE {role} LOGIN PASSWORD '{password}'").ExecuteNonQueryAsync(Cancellation);
            await server.CreateCommand($"CREATE DATABASE {role} OWNER {role}").ExecuteNonQueryAsync(Cancellation);
        }

        await using (var database = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(superuser.ConnectionString) { Database = role }.ConnectionString))
        {
            foreach (var extension in model.Resources.OfType<PostgresDatabaseResource>().Single().Extensions)
            {
                await database.CreateCommand($"CREATE EXTENSION {extension}").ExecuteNonQueryAsync(Cancellation);
            }
        }

        var example = Entries("connections.example.yaml", "Secret", "stringData");
        var redis = ConfigurationOptions.Parse(await graph.ConnectionStringAsync(ConnectionNames.Redis));
        var filledRedis = ConfigurationOptions.Parse(example[Variable(ConnectionNames.Redis)]);
        filledRedis.EndPoints.Clear();
        foreach (var endpoint in redis.EndPoints)
        {
            filledRedis.EndPoints.Add(endpoint);
        }

        filledRedis.Password = redis.Password;
        var storage = new DbConnectionStringBuilder { ConnectionString = example[Variable(ConnectionNames.Storage)] };
        var graphStorage = new DbConnectionStringBuilder { ConnectionString = await graph.ConnectionStringAsync(ConnectionNames.Storage) };
        foreach (string key in graphStorage.Keys)
        {
            storage[key] = graphStorage[key];
        }

        var filled = new Dictionary<string, string>
        {
            [Variable(ConnectionNames.Database)] = new NpgsqlConnectionStringBuilder(example[Variable(ConnectionNames.Database)])
            {
                Host = superuser.Host,
                Port = superuser.Port,
                Database = role,
                Username = role,
                Password = password,
            }.ConnectionString,
            [Variable(ConnectionNames.Redis)] = filledRedis.ToString(includePassword: true),
            [Variable(ConnectionNames.Storage)] = storage.ConnectionString,
            [MigrationStep.AdminKeyVariable] = ApiKeyCredential.Generate().ToString(),
        };
        Assert.Equal(example.Keys.Order(), filled.Keys.Order());
        return filled;

        static string Variable(string connectionName) => $"ConnectionStrings__{connectionName}";
    }

    /// <summary>One workload's container, run here as a process.</summary>
    private sealed class Workload : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _output;
        private readonly YamlMappingNode _container;

        private Workload(Process process, ConcurrentQueue<string> output, YamlMappingNode container, Uri address) =>
            (_process, _output, _container, Address) = (process, output, container, address);

        /// <summary>Where this machine reaches the container's first port.</summary>
        public Uri Address { get; }

        public bool HasExited => _process.HasExited;

        public string Output => string.Join('\n', _output.TakeLast(60));

        public static async Task<Workload> StartAsync(YamlMappingNode workload, IReadOnlyDictionary<string, string> secret, string scratch)
        {
            var container = Container(workload);
            var (stage, project) = Images[ValueAt(container, "image")];
            var image = await ImageStage.ReadAsync(stage);
            var sources = new Dictionary<string, IReadOnlyDictionary<string, string>>
            {
                [ValueAt(Kind("settings.yaml", "ConfigMap"), "metadata", "name")] = Entries("settings.yaml", "ConfigMap", "data"),
                [ValueAt(Kind("connections.example.yaml", "Secret"), "metadata", "name")] = secret,
            };

            // The container's paths as this machine has them: the image's application and models, each mounted volume.
            var paths = new Dictionary<string, string>
            {
                [image.WorkingDirectory] = BuildOutput(project),
                [image.Environment["Models__CacheDirectory"]] = new ModelOptions().CacheDirectory,
            };
            foreach (var mount in Sequence(container, "volumeMounts"))
            {
                paths[ValueAt(mount, "mountPath")] = Directory.CreateDirectory(
                    Path.Combine(scratch, ValueAt(workload, "metadata", "name"), ValueAt(mount, "name"))).FullName;
            }

            var containerPort = Sequence(container, "ports").Select(port => ValueAt(port, "containerPort")).FirstOrDefault();
            var hostPort = AppHostProcess.FreePort();
            var environment = KubernetesManifests.Environment(container, image.Environment, sources)
                .ToDictionary(pair => pair.Key, pair => OnThisMachine(pair.Value, paths, containerPort, hostPort));
            // What the base image gives every process: dotnet on the PATH, a home, and .NET's temporary folder (a volume where /tmp is mounted).
            foreach (var inherited in (string[])["PATH", "HOME", "DOTNET_ROOT"])
            {
                if (System.Environment.GetEnvironmentVariable(inherited) is { } value)
                {
                    environment[inherited] = value;
                }
            }

            if (paths.TryGetValue("/tmp", out var temporary))
            {
                environment["TMPDIR"] = temporary;
            }

            string[] command = [.. image.Entrypoint, .. Sequence(container, "args").Select(argument => ((YamlScalarNode)argument).Value!)];
            var output = new ConcurrentQueue<string>();
            var process = ChildProcess.Start(command[0], command[1..], environment, paths[image.WorkingDirectory], output.Enqueue);
            return new Workload(process, output, container, new Uri($"http://127.0.0.1:{hostPort}"));
        }

        public async Task<int> ExitCodeAsync(TimeSpan timeout)
        {
            await _process.WaitForExitAsync(Cancellation).WaitAsync(timeout, Cancellation);
            return _process.ExitCode;
        }

        /// <summary>Polls the readiness probe's route until it answers 200, as Kubernetes does before sending traffic; then the liveness probe's must too.</summary>
        public async Task WaitUntilReadyAndLiveAsync()
        {
            using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) };
            var ready = await Eventually.PollAsync(async () =>
                {
                    try
                    {
                        using var response = await http.GetAsync(ValueAt(_container, "readinessProbe", "httpGet", "path"), Cancellation);
                        return response.IsSuccessStatusCode;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                answered => answered || _process.HasExited, $"{ValueAt(_container, "name")}'s readiness probe", seconds: 180);
            if (!ready)
            {
                await _process.WaitForExitAsync(Cancellation);
                Assert.Fail($"{ValueAt(_container, "name")} exited ({_process.ExitCode}) before it was ready:\n{Output}");
            }

            using var live = await http.GetAsync(ValueAt(_container, "livenessProbe", "httpGet", "path"), Cancellation);
            Assert.True(live.IsSuccessStatusCode, $"{ValueAt(_container, "name")}'s liveness probe: {live.StatusCode}");
        }

        public async ValueTask DisposeAsync()
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
            _process.Dispose();
        }

        /// <summary>A project's build output beside these tests': bin/&lt;configuration&gt;/&lt;framework&gt;, as this assembly's folder is of its project.</summary>
        private static string BuildOutput(string projectPath)
        {
            var own = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
            return Path.Combine(Path.GetDirectoryName(projectPath)!, "bin", own.Parent!.Name, own.Name);
        }

        /// <summary>A value of the container's environment as this machine has it: its paths mapped, its port published on loopback.</summary>
        private static string OnThisMachine(string value, IReadOnlyDictionary<string, string> paths, string? containerPort, string hostPort)
        {
            foreach (var (inContainer, here) in paths)
            {
                if (value == inContainer || value.StartsWith(inContainer + "/", StringComparison.Ordinal))
                {
                    return here + value[inContainer.Length..];
                }
            }

            return containerPort is null ? value : value.Replace($"+:{containerPort}", $"127.0.0.1:{hostPort}", StringComparison.Ordinal);
        }
    }
}
