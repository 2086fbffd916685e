using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace Heimdex.Tests.AppHost;

/// <summary>
/// The AppHost as a person runs it: <c>dotnet run --project Heimdex.AppHost</c>, in a process group of its own as a
/// terminal starts a command, so <see cref="Interrupt"/> is the terminal's Ctrl-C.
/// </summary>
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

    public string Output => string.Join('\n', _output);

    public static AppHostProcess Start(string dataDirectory)
    {
        var configuration = typeof(AppHostProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        // setsid: the process group a terminal gives a command, which Ctrl-C signals as a whole. env --default-signal: as
        // at a terminal, Ctrl-C is heard even when the tests run in the background (which starts them with SIGINT ignored).
        var startInfo = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["env", "--default-signal=INT", "dotnet", "run", "--no-build", "-c", configuration, "--project", Projects.Heimdex_AppHost.ProjectPath, "--",
                     "--data-dir", dataDirectory, "--api-port", FreePort(), "--dashboard-port", FreePort()])
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

    public async Task<JsonElement> WaitForAllHealthyAsync() =>
        await WaitForEndpointsAsync(e => e.GetProperty("allHealthy").GetBoolean(), TimeSpan.FromMinutes(4), "all resources healthy");

    /// <summary><c>endpoints.json</c> once it says what <paramref name="condition"/> asks.</summary>
    public async Task<JsonElement> WaitForEndpointsAsync(Func<JsonElement, bool> condition, TimeSpan timeout, string what)
    {
        var file = Path.Combine(DataDirectory, "endpoints.json");
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"The AppHost exited with code {_process.ExitCode} before {what}:\n{Output}");
            }

            if (TryRead(file) is { } endpoints && condition(endpoints))
            {
                return endpoints;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"Timed out waiting for {what}:\n{Output}");
        return default;
    }

    private static JsonElement? TryRead(string file)
    {
        try
        {
            return File.Exists(file) ? JsonDocument.Parse(File.ReadAllText(file)).RootElement.Clone() : null;
        }
        catch (Exception error) when (error is IOException or JsonException)
        {
            return null; // caught mid-replace
        }
    }

    /// <summary>Ctrl-C in the terminal: SIGINT to the whole process group.</summary>
    public void Interrupt() => SignalGroup("INT");

    /// <summary>The terminal closed hard: SIGKILL to <c>dotnet run</c> and the AppHost, which get no chance to stop anything.</summary>
    public void KillGroup() => SignalGroup("KILL");

    private void SignalGroup(string signal) =>
        Process.Start("kill", [$"-{signal}", "--", $"-{_process.Id.ToString(CultureInfo.InvariantCulture)}"])!.WaitForExit();

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

    /// <summary>
    /// Every process the run made: DCP (which watches the AppHost) and all below it, the resources' processes among
    /// them, and the AppHost's own children.
    /// </summary>
    public IReadOnlyList<int> GraphProcesses()
    {
        var processes = Directory.EnumerateDirectories("/proc")
            .Select(dir => int.TryParse(Path.GetFileName(dir), out var pid) ? pid : 0)
            .Where(pid => pid > 0)
            .Select(pid => (Pid: pid, Parent: ReadStat(pid)?.ParentPid, CommandLine: CommandLine(pid)))
            .ToList();
        var appHosts = processes.Where(p => p.Parent == _process.Id).Select(p => p.Pid).Append(_process.Id).ToHashSet();
        var roots = processes.Where(p => appHosts.Any(host => p.CommandLine.Contains($"--monitor {host} ", StringComparison.Ordinal)))
            .Select(p => p.Pid).Concat(appHosts);
        var found = new HashSet<int>();
        var frontier = new Queue<int>(roots);
        while (frontier.TryDequeue(out var parent))
        {
            if (found.Add(parent))
            {
                foreach (var child in processes.Where(p => p.Parent == parent))
                {
                    frontier.Enqueue(child.Pid);
                }
            }
        }

        return [.. found];
    }

    /// <summary>Alive means present and not a zombie (this machine's init reaps orphans slowly).</summary>
    public static bool IsAlive(int pid) => ReadStat(pid) is { State: not 'Z' and not 'X' };

    public static async Task<IReadOnlyList<int>> SurvivorsAfterAsync(IReadOnlyList<int> pids, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (pids.Any(IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        return [.. pids.Where(IsAlive)];
    }

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

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>A loopback port nothing listens on now, as the AppHost's command line takes it.</summary>
    public static string FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            KillGroup();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
