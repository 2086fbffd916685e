using System.Diagnostics;

namespace Heimdex.AppHost.Provisioning;

/// <summary>Runs a set-up command (apt-get, npm, initdb, chown) to its end; cancelling kills it.</summary>
public static class CommandLine
{
    public static async Task<(int ExitCode, IReadOnlyList<string> Output)> RunAsync(
        string fileName, IEnumerable<string> arguments, Action<string> onOutputLine, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        var output = new Queue<string>();
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.Enqueue(line);
                if (output.Count > 40)
                {
                    output.Dequeue();
                }
            }

            onOutputLine(line);
        }

        using var process = Process.Start(startInfo) ?? throw new AppHostException($"Could not start {fileName}.");
        process.StandardInput.Close();
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        lock (output)
        {
            return (process.ExitCode, [.. output]);
        }
    }
}
