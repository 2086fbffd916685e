using System.Collections.Concurrent;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Heimdex.AppHost.Reporting;
using Heimdex.AppHost.Resources;
using Heimdex.Conventions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Heimdex.Tests.AppHost;

/// <summary>
/// The AppHost's real graph, started in this process by Aspire.Hosting.Testing on a data directory of its own: DCP
/// runs the same PostgreSQL, Redis, storage, migration step, API and worker as <c>dotnet run</c> does.
/// </summary>
public sealed class TestGraph : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);

    private TestGraph(DistributedApplication app, string dataDirectory, LogRecords hostLogs)
    {
        App = app;
        DataDirectory = dataDirectory;
        HostLogs = hostLogs;
    }

    public DistributedApplication App { get; }

    public string DataDirectory { get; }

    /// <summary>What the AppHost itself logged (not its resources' output).</summary>
    public LogRecords HostLogs { get; }

    /// <summary>The dashboard as it runs: Aspire.Hosting.Testing gives it a random port, not the one the AppHost asked for.</summary>
    public async Task<DashboardAddress> DashboardAsync()
    {
        var configured = App.Services.GetRequiredService<DashboardAddress>();
        var running = await App.GetDashboardUrlAsync(TestContext.Current.CancellationToken)
                      ?? throw new InvalidOperationException("The dashboard does not run in this graph.");
        return configured with { Url = new Uri(running.GetLeftPart(UriPartial.Authority)) };
    }

    public static string NewDataDirectory() =>
        Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "heimdex-tests", Guid.NewGuid().ToString("N"))).FullName;

    /// <param name="serviceEnvironment">Configuration for the API, the worker and the migration step (such as <c>Uploads__MaxBytes</c>).</param>
    /// <param name="dashboard">Run the Aspire dashboard too, with the services sending it their telemetry.</param>
    /// <param name="expectFailure">
    /// Return without waiting for the start to finish: Aspire finishes starting only once every resource started, which a
    /// graph with a broken server never does.
    /// </param>
    /// <param name="workerStorage">Rewrites the storage connection string the worker gets, e.g. to read through a proxy.</param>
    /// <param name="options">More of the AppHost's options, such as <c>--workers 3</c>.</param>
    public static async Task<TestGraph> StartAsync(
        IReadOnlyDictionary<string, string>? serviceEnvironment = null, bool dashboard = false, string? dataDirectory = null,
        IReadOnlyDictionary<string, string>? workerEnvironment = null, bool expectFailure = false,
        Func<string, string>? workerStorage = null, params string[] options)
    {
        var cancellation = TestContext.Current.CancellationToken;
        dataDirectory ??= NewDataDirectory();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Heimdex_AppHost>(
            ["--data-dir", dataDirectory, "--api-port", AppHostProcess.FreePort(), "--dashboard-port", AppHostProcess.FreePort(), .. options],
            (options, _) => options.DisableDashboard = !dashboard,
            cancellation);
        var hostLogs = new LogRecords();
        builder.Services.AddLogging(logging => logging.AddProvider(hostLogs));
        foreach (var service in builder.Resources.OfType<ProjectResource>()
                     .Where(p => p.Name == "migrations" || ServiceNames.IsReplicaOf(p.Name, ServiceNames.Api) || ServiceNames.IsReplicaOf(p.Name, ServiceNames.Worker)))
        {
            var resource = builder.CreateResourceBuilder(service);
            foreach (var (name, value) in serviceEnvironment ?? new Dictionary<string, string>())
            {
                resource.WithEnvironment(name, value);
            }

            if (ServiceNames.IsReplicaOf(service.Name, ServiceNames.Worker))
            {
                foreach (var (name, value) in workerEnvironment ?? new Dictionary<string, string>())
                {
                    resource.WithEnvironment(name, value);
                }

                if (workerStorage is not null)
                {
                    // Made when the worker starts, from storage's own connection string (its port and keys exist only then).
                    var storage = builder.Resources.OfType<IResourceWithConnectionString>().Single(r => r.Name == ConnectionNames.Storage);
                    resource.WithEnvironment(async context => context.EnvironmentVariables[$"ConnectionStrings__{ConnectionNames.Storage}"] =
                        workerStorage((await storage.GetConnectionStringAsync(context.CancellationToken))!));
                }
            }
        }

        var app = await builder.BuildAsync(cancellation);
        var starting = app.StartAsync(cancellation);
        if (!expectFailure)
        {
            await starting.WaitAsync(StartTimeout, cancellation);
        }

        return new TestGraph(app, dataDirectory, hostLogs);
    }

    public async Task WaitForHealthyAsync(params string[] resources)
    {
        foreach (var resource in resources)
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, TestContext.Current.CancellationToken)
                .WaitAsync(StartTimeout, TestContext.Current.CancellationToken);
        }
    }

    public async Task<ResourceEvent> WaitForAsync(string resource, Func<ResourceEvent, bool> condition, TimeSpan timeout) =>
        await App.ResourceNotifications.WaitForResourceAsync(resource, condition, TestContext.Current.CancellationToken)
            .WaitAsync(timeout, TestContext.Current.CancellationToken);

    public async Task<string> ConnectionStringAsync(string name) =>
        await App.GetConnectionStringAsync(name, TestContext.Current.CancellationToken)
        ?? throw new InvalidOperationException($"{name} has no connection string");

    public Uri Endpoint(string resource) => App.GetEndpoint(resource, "http");

    /// <summary>The administrator's key, as the AppHost wrote it into the data directory on first start.</summary>
    public async Task<string> AdminKeyAsync() =>
        (await File.ReadAllTextAsync(Path.Combine(DataDirectory, "admin.key"), TestContext.Current.CancellationToken)).Trim();

    /// <summary>A client of the graph's API holding the administrator's key.</summary>
    public async Task<HttpClient> AdminClientAsync() => Client(Endpoint(ServiceNames.Api), await AdminKeyAsync());

    /// <summary>A client of an API at <paramref name="api"/> holding <paramref name="apiKey"/> (none: anonymous).</summary>
    public static HttpClient Client(Uri api, string? apiKey)
    {
        var client = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromMinutes(5) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>The service's own process (under DCP's <c>dotnet run</c>), once it runs.</summary>
    public async Task<int> ServicePidAsync(string resource)
    {
        var running = await WaitForAsync(resource, e => e.Snapshot.State?.Text == KnownResourceStates.Running, StartTimeout);
        var started = (int)running.Snapshot.Properties.Single(p => p.Name == "executable.pid").Value!;
        return await Eventually.PollAsync(() => Task.FromResult(ServiceProcess.Of(started)), pid => pid is not null,
            $"the process of {resource}", seconds: 60) ?? 0;
    }

    /// <summary>SIGKILLs the service's process, as a crash would end it; returns the pid it had.</summary>
    public async Task<int> CrashAsync(string resource)
    {
        var pid = await ServicePidAsync(resource);
        Kill(pid);
        return pid;
    }

    /// <summary>SIGKILLs a service's process found earlier with <see cref="ServicePidAsync"/>, for a kill timed to the moment.</summary>
    public static void Kill(int pid)
    {
        using var process = System.Diagnostics.Process.GetProcessById(pid);
        process.Kill();
    }

    /// <summary>Stops a server as the dashboard's stop button does, and waits until it is down.</summary>
    public async Task StopAsync(string resource)
    {
        var result = await App.ResourceCommands.ExecuteCommandAsync(Resource(resource), KnownResourceCommands.StopCommand, TestContext.Current.CancellationToken);
        Assert.True(result.Success, $"stopping {resource}: {result.Message}");
        await WaitForAsync(resource, e => e.Snapshot.State?.Text is not (null or "Running" or "Stopping"), TimeSpan.FromMinutes(1));
    }

    /// <summary>Starts a stopped server again and waits until it is healthy.</summary>
    public async Task StartAgainAsync(string resource)
    {
        var result = await App.ResourceCommands.ExecuteCommandAsync(Resource(resource), KnownResourceCommands.StartCommand, TestContext.Current.CancellationToken);
        Assert.True(result.Success, $"starting {resource}: {result.Message}");
        await WaitForHealthyAsync(resource);
    }

    private IResource Resource(string name) => App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == name);

    /// <summary>Crashes the service and waits until the AppHost has it running and healthy again, in a new process.</summary>
    public async Task CrashAndWaitForRestartAsync(string resource) => await WaitForRestartAsync(resource, await CrashAsync(resource));

    /// <summary>Waits until the AppHost has the service, whose process <paramref name="crashed"/> died, running and healthy in a new one.</summary>
    public async Task WaitForRestartAsync(string resource, int crashed)
    {
        await WaitForAsync(resource, e => e.Snapshot.State?.Text != KnownResourceStates.Running, TimeSpan.FromMinutes(1));
        await Eventually.PollAsync(async () =>
            {
                var current = await WaitForAsync(resource, _ => true, TimeSpan.FromSeconds(5));
                return (current.Snapshot.State?.Text, current.Snapshot.HealthStatus,
                    Pid: current.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is int started ? ServiceProcess.Of(started) : null);
            },
            s => s.Text == KnownResourceStates.Running && s.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
                 && s.Pid is { } pid && pid != crashed,
            $"{resource} running again", seconds: 120);
    }

    /// <summary>The resource's console output so far, as the dashboard shows it.</summary>
    public async Task<string> ConsoleLogsAsync(string resource)
    {
        var model = App.Services.GetRequiredService<DistributedApplicationModel>();
        var lines = new List<string>();
        await foreach (var batch in App.Services.GetRequiredService<ResourceLoggerService>()
                           .GetAllAsync(model.Resources.Single(r => r.Name == resource)).WithCancellation(TestContext.Current.CancellationToken))
        {
            lines.AddRange(batch.Select(line => line.Content));
        }

        return string.Join('\n', lines);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        Directory.Delete(DataDirectory, recursive: true);
    }
}

/// <summary>Log records of one process's loggers, kept in memory for a test to read.</summary>
public sealed class LogRecords : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, string Message)> _records = new();

    public IReadOnlyList<(string Category, LogLevel Level, string Message)> Records => [.. _records];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _records);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<(string, LogLevel, string)> records) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                records.Enqueue((category, logLevel, formatter(state, exception)));
            }
        }
    }
}
