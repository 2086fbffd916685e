using System.Diagnostics;
using Heimdex.Worker.Pipeline;
using Microsoft.Extensions.Options;

namespace Heimdex.Worker.Engines;

/// <summary>ffmpeg failed; the message ends with what it printed last, which usually names the problem.</summary>
public sealed class FFmpegException(string message) : Exception(message);

/// <summary>
/// Runs ffmpeg with arguments as a list (no shell), streams its stdout to a reader, and kills it the moment the job
/// is cancelled, so a cancelled or shut-down job never leaves an ffmpeg running.
/// </summary>
public sealed class FFmpeg(IOptions<PipelineOptions> options)
{
    public string FFmpegPath => options.Value.FFmpegPath;

    public string FFprobePath => options.Value.FFprobePath;

    public async Task RunAsync(IReadOnlyList<string> arguments, Func<Stream, CancellationToken, Task>? readOutput, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(FFmpegPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-hide_banner", "-nostdin", "-loglevel", "error", .. arguments])
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new FFmpegException($"Could not start {FFmpegPath}.");
        await using var kill = cancellationToken.Register(() =>
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // already exited
            }
        });
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var output = readOutput is null
            ? process.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None)
            : readOutput(process.StandardOutput.BaseStream, cancellationToken);
        try
        {
            await output;
        }
        finally
        {
            await process.WaitForExitAsync(CancellationToken.None);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (process.ExitCode != 0)
        {
            var lastLines = (await errors).Trim().Split('\n').TakeLast(3);
            throw new FFmpegException($"ffmpeg exited with code {process.ExitCode}: {string.Join(" / ", lastLines)}");
        }
    }
}
