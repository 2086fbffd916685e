using System.Reflection;
using System.Runtime.InteropServices;
using Heimdex.Shared;

namespace Heimdex.AppHost.Hosting;

/// <summary>Collects the resource graph, the way Aspire's builder does.</summary>
public sealed class DistributedApplicationBuilder
{
    private readonly List<Resource> _resources = [];

    internal DistributedApplicationBuilder(AppHostOptions options) => Options = options;

    public AppHostOptions Options { get; }

    public PostgresResource AddPostgres(string name) => Add(new PostgresResource(name));

    public RedisResource AddRedis(string name) => Add(new RedisResource(name));

    public StorageResource AddStorage(string name) => Add(new StorageResource(name));

    /// <summary>A service of this solution, by project name; its build output's path is stamped in at build time.</summary>
    public ProjectResource AddProject(string name, string projectName) =>
        Add(new ProjectResource(name, BuildMetadata($"service:{projectName}")
                                      ?? throw new HostingException($"The AppHost was built without a reference to {projectName}.")));

    public DistributedApplication Build() => new(Options, _resources);

    private T Add<T>(T resource) where T : Resource
    {
        _resources.Add(resource);
        return resource;
    }

    internal static string? BuildMetadata(string key) =>
        typeof(DistributedApplicationBuilder).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value;
}

/// <summary>
/// Runs the graph: provisions what is missing, starts each resource once its dependencies are healthy, watches
/// health, restarts crashed services with backoff, fails the run when a server cannot start, and on Ctrl-C/SIGTERM
/// stops everything in reverse dependency order.
/// </summary>
public sealed class DistributedApplication
{
    private static readonly TimeSpan ServerStartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ServiceStartTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan StableRun = TimeSpan.FromSeconds(60);

    private readonly AppHostOptions _options;
    private readonly IReadOnlyList<Resource> _resources;
    private readonly ResourceConsole _console;
    private readonly Dictionary<Resource, TaskCompletionSource> _healthy;
    private readonly List<(Resource Resource, ChildProcess Process)> _started = [];
    private readonly CancellationTokenSource _stopping = new();
    private string? _failure;

    internal DistributedApplication(AppHostOptions options, IReadOnlyList<Resource> resources)
    {
        _options = options;
        _resources = resources;
        _console = new ResourceConsole(options.DataDirectory, resources);
        _healthy = resources.ToDictionary(r => r, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    public static DistributedApplicationBuilder CreateBuilder(string[] args)
    {
        var repositoryRoot = DistributedApplicationBuilder.BuildMetadata("RepositoryRoot") ?? Directory.GetCurrentDirectory();
        try
        {
            return new DistributedApplicationBuilder(AppHostOptions.Parse(args, Path.Combine(repositoryRoot, ".heimdex")));
        }
        catch (HostingException error)
        {
            Console.Error.WriteLine(error.Message);
            Environment.Exit(2);
            throw;
        }
    }

    public async Task<int> RunAsync()
    {
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, RequestStop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, RequestStop);
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, RequestStop);
        FileStream? dataLock = null;
        try
        {
            if (_options.Fresh && Directory.Exists(_options.DataDirectory))
            {
                _console.Info($"--fresh: wiping {_options.DataDirectory}");
                Directory.Delete(_options.DataDirectory, recursive: true);
            }

            var context = new HostContext(_options, new SystemPackages(_console.Info), _console.Info);
            await context.Packages.EnsureAsync(_resources.SelectMany(r => r.Requirements), _stopping.Token);
            await new ModelCache(_options.ModelCacheDirectory, _console.Info).EnsureAsync(_resources.SelectMany(r => r.Models), _stopping.Token);
            if (_options.InstallOnly)
            {
                _console.Info("every program and model the graph needs is installed");
                return 0;
            }

            Directory.CreateDirectory(_options.DataDirectory);
            dataLock = LockDataDirectory();
            _console.Info($"data in {_options.DataDirectory}");
            var supervisors = _resources.Select(r => SuperviseAsync(r, context)).ToList();
            _ = AnnounceWhenAllHealthyAsync();
            await Task.Delay(Timeout.Infinite, _stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            await StopAllAsync();
            await Task.WhenAll(supervisors);
        }
        catch (HostingException error)
        {
            _failure = error.Message;
            await StopAllAsync();
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            await StopAllAsync(); // stopped during provisioning
        }
        finally
        {
            dataLock?.Dispose();
        }

        if (_failure is not null)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine($"Heimdex could not run: {_failure}");
            return 1;
        }

        _console.Info("stopped");
        return 0;
    }

    private void RequestStop(PosixSignalContext signal)
    {
        if (_stopping.IsCancellationRequested)
        {
            return; // a second Ctrl-C: let the default handler end the AppHost; the kernel then kills every child
        }

        signal.Cancel = true;
        _console.Info($"{signal.Signal}: stopping");
        _stopping.Cancel();
    }

    private FileStream LockDataDirectory()
    {
        try
        {
            // FileShare.None is an exclusive advisory lock on Unix: a second AppHost on this directory is refused.
            return new FileStream(Path.Combine(_options.DataDirectory, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new HostingException($"Another AppHost is already running on {_options.DataDirectory}.");
        }
    }

    private async Task SuperviseAsync(Resource resource, HostContext context)
    {
        var stopping = _stopping.Token;
        try
        {
            await Task.WhenAll(resource.Dependencies.Select(d => _healthy[d].Task)).WaitAsync(stopping);
            var failures = 0;
            while (!stopping.IsCancellationRequested)
            {
                Transition(resource, ResourceState.Starting);
                var spec = await resource.PrepareAsync(context, stopping);
                var output = new LogTail(30);
                var child = await ChildProcess.StartAsync(spec, line =>
                {
                    output.Add(line);
                    _console.Output(resource, line);
                });
                lock (_started)
                {
                    _started.Add((resource, child));
                }

                resource.ProcessId = child.Pid;
                if (resource.IsOneShot)
                {
                    await CompleteOneShotAsync(resource, child, output);
                    return;
                }

                var startedAt = DateTimeOffset.UtcNow;
                await WatchAsync(resource, child, output, stopping);
                if (stopping.IsCancellationRequested)
                {
                    return;
                }

                var exitCode = await child.Exited;
                Transition(resource, ResourceState.Exited, $"exit code {exitCode}");
                if (!resource.RestartOnExit || exitCode == ServiceExitCodes.Misconfigured)
                {
                    throw new HostingException($"{resource.Name} exited with code {exitCode}. {LastLines(output)}");
                }

                failures = DateTimeOffset.UtcNow - startedAt > StableRun ? 1 : failures + 1;
                var backoff = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, failures - 1)));
                Transition(resource, ResourceState.Restarting, $"in {backoff.TotalSeconds:0} s");
                await Task.Delay(backoff, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception error)
        {
            Fail(resource, error is HostingException ? error.Message : $"{resource.Name}: {error}");
        }
    }

    private async Task CompleteOneShotAsync(Resource resource, ChildProcess child, LogTail output)
    {
        var exitCode = await child.Exited.WaitAsync(_stopping.Token);
        if (exitCode != 0)
        {
            throw new HostingException($"{resource.Name} failed with exit code {exitCode}. {LastLines(output)}");
        }

        Transition(resource, ResourceState.Finished);
        _healthy[resource].TrySetResult();
    }

    /// <summary>Polls health until the process exits or the run stops; a first start that never turns healthy fails.</summary>
    private async Task WatchAsync(Resource resource, ChildProcess child, LogTail output, CancellationToken stopping)
    {
        var startTimeout = resource.RestartOnExit ? ServiceStartTimeout : ServerStartTimeout;
        var deadline = DateTimeOffset.UtcNow + startTimeout;
        var wasHealthy = false;
        while (!child.Exited.IsCompleted && !stopping.IsCancellationRequested)
        {
            var healthy = await resource.IsHealthyAsync(stopping);
            if (healthy && !wasHealthy)
            {
                await resource.OnHealthyAsync(stopping);
                Transition(resource, ResourceState.Healthy);
                _healthy[resource].TrySetResult();
            }
            else if (!healthy && wasHealthy)
            {
                Transition(resource, ResourceState.Unhealthy);
            }
            else if (!healthy && resource.State == ResourceState.Starting && DateTimeOffset.UtcNow > deadline)
            {
                throw new HostingException($"{resource.Name} did not become healthy within {startTimeout.TotalSeconds:0} s. " +
                                           LastLines(output));
            }

            wasHealthy = healthy;
            await Task.WhenAny(child.Exited, Task.Delay(healthy ? TimeSpan.FromSeconds(5) : TimeSpan.FromMilliseconds(250), stopping));
        }
    }

    private static string LastLines(LogTail output) => $"Its last lines:\n  {string.Join("\n  ", output.Lines)}";

    private async Task AnnounceWhenAllHealthyAsync()
    {
        try
        {
            await Task.WhenAll(_healthy.Values.Select(h => h.Task)).WaitAsync(_stopping.Token);
            _console.AllHealthy();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Transition(Resource resource, ResourceState state, string? detail = null)
    {
        resource.State = state;
        _console.StateChanged(resource, detail);
    }

    private void Fail(Resource resource, string message)
    {
        _failure ??= message;
        _stopping.Cancel();
        Transition(resource, ResourceState.Failed, message.Split('\n')[0]);
    }

    /// <summary>Services first, servers last: the reverse of the order things started in.</summary>
    private async Task StopAllAsync()
    {
        _stopping.Cancel();
        List<(Resource Resource, ChildProcess Process)> started;
        lock (_started)
        {
            started = [.. _started];
        }

        foreach (var (resource, process) in Enumerable.Reverse(started).Where(s => !s.Process.Exited.IsCompleted))
        {
            Transition(resource, ResourceState.Stopping);
            await process.StopAsync(resource.StopSignal, StopGrace);
            Transition(resource, ResourceState.Stopped);
        }
    }
}
