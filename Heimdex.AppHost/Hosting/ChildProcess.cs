using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Heimdex.AppHost.Hosting;

/// <summary>What to run for a resource; <see cref="RunAsUser"/> drops privileges (PostgreSQL refuses root).</summary>
public sealed record ProcessSpec(
    string FileName,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string WorkingDirectory,
    string? RunAsUser = null);

/// <summary>
/// A child process bound to the AppHost's lifetime: <c>setsid</c> puts it in its own session, so a terminal's Ctrl-C
/// reaches only the AppHost, which then stops children in reverse dependency order; <c>setpriv --pdeathsig KILL</c>
/// has the kernel kill it if the AppHost dies, even by SIGKILL.
/// </summary>
public sealed partial class ChildProcess
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    // The parent-death signal fires when the *thread* that forked the child exits, and Process.Start forks on the
    // calling thread; so every child is started from this one thread, which lives as long as the AppHost.
    private static readonly BlockingCollection<(ProcessStartInfo StartInfo, TaskCompletionSource<Process> Started)> Launches = new();
    private static readonly Lazy<Thread> Launcher = new(() =>
    {
        var thread = new Thread(() =>
        {
            foreach (var (startInfo, started) in Launches.GetConsumingEnumerable())
            {
                try
                {
                    started.SetResult(Process.Start(startInfo)!);
                }
                catch (Exception error)
                {
                    started.SetException(error);
                }
            }
        })
        { IsBackground = true, Name = "child-process-launcher" };
        thread.Start();
        return thread;
    });

    private readonly Process _process;

    private ChildProcess(Process process, Task<int> exited)
    {
        _process = process;
        Exited = exited;
    }

    public int Pid => _process.Id;

    /// <summary>Completes with the exit code.</summary>
    public Task<int> Exited { get; }

    public static async Task<ChildProcess> StartAsync(ProcessSpec spec, Action<string> onOutputLine)
    {
        var startInfo = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = spec.WorkingDirectory,
        };
        foreach (var argument in BoundToParent(spec))
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in spec.Environment)
        {
            startInfo.Environment[name] = value;
        }

        _ = Launcher.Value;
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Launches.Add((startInfo, started));
        var process = await started.Task;
        process.StandardInput.Close();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { onOutputLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { onOutputLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ChildProcess(process, WaitForExitAsync(process));
    }

    /// <summary><c>setpriv --pdeathsig KILL [--reuid … --regid … --init-groups] -- command …</c>, run under setsid.</summary>
    public static IEnumerable<string> BoundToParent(ProcessSpec spec)
    {
        yield return "setpriv";
        yield return "--pdeathsig";
        yield return "KILL";
        if (spec.RunAsUser is { } user)
        {
            yield return $"--reuid={user}";
            yield return $"--regid={user}";
            yield return "--init-groups";
        }

        yield return "--";
        yield return spec.FileName;
        foreach (var argument in spec.Arguments)
        {
            yield return argument;
        }
    }

    private static async Task<int> WaitForExitAsync(Process process)
    {
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    /// <summary>Asks the process to stop with <paramref name="signal"/>; after <paramref name="grace"/>, kills its whole session.</summary>
    public async Task StopAsync(int signal, TimeSpan grace)
    {
        if (Exited.IsCompleted)
        {
            return;
        }

        _ = Kill(Pid, signal);
        if (await Task.WhenAny(Exited, Task.Delay(grace)) != Exited)
        {
            _ = Kill(-Pid, SigKill); // the process group setsid made: the child and anything it started
            await Exited;
        }
    }

    /// <summary>Runs a one-shot command (initdb, apt-get) to its end; cancelling stops it.</summary>
    public static async Task<(int ExitCode, IReadOnlyList<string> Output)> RunAsync(
        ProcessSpec spec, Action<string> onOutputLine, CancellationToken cancellationToken)
    {
        var output = new LogTail(40);
        var child = await StartAsync(spec, line =>
        {
            output.Add(line);
            onOutputLine(line);
        });
        await using (cancellationToken.Register(() => _ = child.StopAsync(SigTerm, TimeSpan.FromSeconds(5))))
        {
            var exitCode = await child.Exited;
            cancellationToken.ThrowIfCancellationRequested();
            return (exitCode, output.Lines);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
