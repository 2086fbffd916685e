using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace Heimdex.Tests.AppHost;

/// <summary>The real AppHost, started as a process on its own data directory, as a user would run it.</summary>
public sealed class AppHostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private AppHostProcess(string dataDirectory, Process process)
    {
        DataDirectory = dataDirectory;
        _process = process;
    }

    public string DataDirectory { get; }

    public int Pid => _process.Id;

    public string Output => string.Join('\n', _output);

    public static string AssemblyPath =>
        typeof(AppHostProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "service:Heimdex.AppHost").Value!;

    public static string NewDataDirectory() =>
        Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "heimdex-tests", Guid.NewGuid().ToString("N"))).FullName;

    public static AppHostProcess Start(string dataDirectory, params string[] arguments) => Start(dataDirectory, new Dictionary<string, string>(), arguments);

    /// <param name="environment">Variables the AppHost passes on to every service (configuration such as Uploads__MaxBytes).</param>
    public static AppHostProcess Start(string dataDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        foreach (var argument in (string[])[AssemblyPath, "--data-dir", dataDirectory, "--api-port", FreePort().ToString(CultureInfo.InvariantCulture), .. arguments])
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = Process.Start(startInfo)!;
        var host = new AppHostProcess(dataDirectory, process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { host._output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { host._output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    public async Task<GraphEndpoints> WaitForAllHealthyAsync(TimeSpan? timeout = null) =>
        await WaitForEndpointsAsync(e => e.AllHealthy, timeout ?? TimeSpan.FromMinutes(3), "all resources healthy");

    public async Task<GraphEndpoints> WaitForEndpointsAsync(Func<GraphEndpoints, bool> condition, TimeSpan timeout, string what)
    {
        var file = Path.Combine(DataDirectory, "endpoints.json");
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"The AppHost exited with code {_process.ExitCode} before {what}:\n{Output}");
            }

            if (File.Exists(file) && TryRead(file) is { } endpoints && condition(endpoints))
            {
                return endpoints;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"Timed out waiting for {what}:\n{Output}");
        return null!;
    }

    private static GraphEndpoints? TryRead(string file)
    {
        try
        {
            return new GraphEndpoints(JsonDocument.Parse(File.ReadAllText(file)).RootElement.Clone());
        }
        catch (Exception error) when (error is IOException or JsonException)
        {
            return null; // caught mid-replace
        }
    }

    public void Signal(string signal) => Process.Start("kill", [$"-{signal}", Pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The AppHost did not exit within {timeout}:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Every process below the AppHost: its children and theirs (PostgreSQL's backends, say).</summary>
    public IReadOnlyList<int> Descendants()
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && ReadStat(pid) is { } stat)
            {
                parents[pid] = stat.ParentPid;
            }
        }

        var found = new List<int>();
        var frontier = new Queue<int>([Pid]);
        while (frontier.TryDequeue(out var parent))
        {
            foreach (var child in parents.Where(p => p.Value == parent).Select(p => p.Key))
            {
                found.Add(child);
                frontier.Enqueue(child);
            }
        }

        return found;
    }

    /// <summary>Alive means present and not a zombie (this machine's init reaps orphans slowly).</summary>
    public static bool IsAlive(int pid) => ReadStat(pid) is { State: not 'Z' and not 'X' };

    private static (char State, int ParentPid)? ReadStat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static async Task<IReadOnlyList<int>> SurvivorsAfterAsync(IReadOnlyList<int> pids, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (pids.Any(IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        return pids.Where(IsAlive).ToList();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(); // SIGKILL: the children's parent-death signal takes them down too
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

/// <summary>The AppHost's <c>endpoints.json</c>.</summary>
public sealed record GraphEndpoints(JsonElement Root)
{
    public bool AllHealthy => Root.GetProperty("allHealthy").GetBoolean();

    public string State(string resource) => Root.GetProperty("resources").GetProperty(resource).GetProperty("state").GetString()!;

    public int Pid(string resource) => Root.GetProperty("resources").GetProperty(resource).GetProperty("pid").GetInt32();

    public Uri Url(string resource) => new(Root.GetProperty("resources").GetProperty(resource).GetProperty("url").GetString()!);

    public string Endpoint(string resource, string name) =>
        Root.GetProperty("resources").GetProperty(resource).GetProperty("endpoints").GetProperty(name).GetString()!;

    public string ConnectionString(string name) => Root.GetProperty("connectionStrings").GetProperty(name).GetString()!;
}
