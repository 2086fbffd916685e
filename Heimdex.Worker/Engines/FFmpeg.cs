using System.Globalization;
using FFMpegCore;
using System.Diagnostics;
using Heimdex.Worker.Pipeline;
using Microsoft.Extensions.Options;

namespace Heimdex.Worker.Engines;

/// <summary>ffmpeg failed; the message ends with what it printed last, which usually names the problem.</summary>
public sealed class FFmpegException(string message) : Exception(message);

/// <summary>
/// What ffmpeg and ffprobe print when the storage they read from failed them (refused, reset, timed out, an HTTP
/// error status), as opposed to a file they could read but not understand: the first is retried, the second is the
/// file's fault.
/// </summary>
public static class StorageReadErrors
{
    private static readonly string[] Signs =
    [
        "Connection refused", "Connection reset", "Connection timed out", "Operation timed out", "timed out", "No route to host",
        "Network is unreachable", "Server returned", "HTTP error",
    ];

    public static bool Describe(string ffmpegOutput) => Signs.Any(sign => ffmpegOutput.Contains(sign, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Storage failed a read (not the file's fault): the stage throws it to be retried.</summary>
public sealed class StorageReadException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Runs ffmpeg with arguments as a list (no shell), streams its stdout to a reader, and kills it the moment the job
/// is cancelled, so a cancelled or shut-down job never leaves an ffmpeg running. Inputs read over HTTP (presigned
/// storage URLs) get an I/O timeout, so storage that stops sending fails the read instead of hanging the job.
/// </summary>
public sealed class FFmpeg(IOptions<PipelineOptions> options)
{
    public string FFmpegPath => options.Value.FFmpegPath;

    public string FFprobePath => options.Value.FFprobePath;

    /// <summary>
    /// A filter keeping only the frames numbered <paramref name="frames"/> (from 0, in decode order), for a filtergraph
    /// script; an image sequence written from it is numbered from 1 in the order of the frames kept.
    /// </summary>
    public static string SelectFrames(IEnumerable<int> frames) => $"select='{string.Join('+', frames.Select(n => $"eq(n\\,{n})"))}'";

    /// <summary>
    /// Follows what ffmpeg writes with <c>-progress pipe:1</c>: each time it reports, how far into the video its
    /// outputs have got, in seconds.
    /// </summary>
    public static async Task ReadProgressAsync(Stream output, Action<double> reached, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(output);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("out_time_us=", StringComparison.Ordinal) && long.TryParse(line.AsSpan("out_time_us=".Length), CultureInfo.InvariantCulture, out var microseconds))
            {
                reached(microseconds / 1e6);
            }
        }
    }

    /// <summary>ffmpeg's and ffprobe's input option for network reads: microseconds without progress before a read fails.</summary>
    private string[] ReadTimeoutOption => ["-rw_timeout", ((long)options.Value.StorageReadTimeout.TotalMicroseconds).ToString(CultureInfo.InvariantCulture)];

    /// <summary>ffprobe's analysis of a (storage) URL, read with the same I/O timeout as ffmpeg's inputs.</summary>
    public Task<IMediaAnalysis> ProbeAsync(Uri input, CancellationToken cancellationToken) =>
        FFProbe.AnalyseAsync(input, new FFOptions { BinaryFolder = Path.GetDirectoryName(FFprobePath) ?? "" }, cancellationToken: cancellationToken,
            customArguments: string.Join(' ', ReadTimeoutOption));

    private IEnumerable<string> WithReadTimeouts(IReadOnlyList<string> arguments)
    {
        for (var i = 0; i < arguments.Count; i++)
        {
            if (arguments[i] == "-i" && i + 1 < arguments.Count && arguments[i + 1].StartsWith("http", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var option in ReadTimeoutOption)
                {
                    yield return option;
                }
            }

            yield return arguments[i];
        }
    }

    /// <param name="cores">
    /// The threads ffmpeg decodes and filters on (all cores when null). A stage passes the cores free when it starts:
    /// on a machine busy with other stages, frame threads cost CPU for nothing (a 10-minute talk decodes in 8 s of CPU
    /// on one thread, 12–13 s on two).
    /// </param>
    public async Task RunAsync(IReadOnlyList<string> arguments, Func<Stream, CancellationToken, Task>? readOutput, CancellationToken cancellationToken, int? cores = null)
    {
        var startInfo = new ProcessStartInfo(FFmpegPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        var threads = cores is { } count ? count.ToString(CultureInfo.InvariantCulture) : null;
        // -threads before the first input is that input's decoder's.
        string[] threadOptions = threads is null ? [] : ["-filter_threads", threads, "-filter_complex_threads", threads, "-threads", threads];
        foreach (var argument in (string[])["-hide_banner", "-nostdin", "-loglevel", "error", .. threadOptions, .. WithReadTimeouts(arguments)])
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
