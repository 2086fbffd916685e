using System.Diagnostics;

namespace Heimdex.Tests;

/// <summary>A program a test runs beside it, as a service runs: with exactly the environment it is given, its output read line by line.</summary>
public static class ChildProcess
{
    public static Process Start(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string workingDirectory, Action<string> output)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, line) => output(line.Data ?? "");
        process.ErrorDataReceived += (_, line) => output(line.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
