using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace Heimdex.Worker.Pipeline;

/// <summary>
/// A worker that starts must be a worker that works: before taking any job it resolves every registered stage,
/// runs ffmpeg and ffprobe, and asks each stage what it lacks. Everything missing is reported at once.
/// </summary>
public static class SelfCheck
{
    public static async Task<IReadOnlyList<string>> FindProblemsAsync(IServiceProvider services)
    {
        var problems = new List<string>();
        var options = services.GetRequiredService<IOptions<PipelineOptions>>().Value;
        foreach (var (program, path) in new[] { ("ffmpeg", options.FFmpegPath), ("ffprobe", options.FFprobePath) })
        {
            if (await RunsAsync(path) is { } problem)
            {
                problems.Add($"{program} ({path}) {problem} — install it (Debian: apt-get install ffmpeg) or set Pipeline__{(program == "ffmpeg" ? "FFmpegPath" : "FFprobePath")}.");
            }
        }

        try
        {
            Directory.CreateDirectory(options.WorkDirectory);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            problems.Add($"the work directory {options.WorkDirectory} cannot be created: {error.Message}");
        }

        await using var scope = services.CreateAsyncScope();
        foreach (var stageType in services.GetRequiredService<StageRegistry>().Types)
        {
            try
            {
                var stage = (IPipelineStage)scope.ServiceProvider.GetRequiredService(stageType);
                problems.AddRange(stage.FindProblems().Select(p => $"stage {stageType.Name}: {p}"));
            }
            catch (Exception error) when (error is InvalidOperationException or InvalidCastException)
            {
                problems.Add($"stage {stageType.Name} cannot be created: {error.Message}");
            }
        }

        return problems;
    }

    private static async Task<string?> RunsAsync(string program)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(program, ["-version"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return process.ExitCode == 0 ? null : $"exited with code {process.ExitCode} on -version";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "was not found";
        }
    }
}
