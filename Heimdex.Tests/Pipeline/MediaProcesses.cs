using System.Diagnostics;

namespace Heimdex.Tests.Pipeline;

/// <summary>
/// The ffmpeg and ffprobe processes on this machine whose command line names something (a URL, an address): other
/// tests run ffmpeg at the same time, so a test looks only for the ones that read its own server.
/// </summary>
public static class MediaProcesses
{
    public static List<int> Naming(string text) =>
        [.. Process.GetProcessesByName("ffmpeg").Concat(Process.GetProcessesByName("ffprobe"))
            .Where(process => CommandLineOf(process.Id).Contains(text, StringComparison.Ordinal)).Select(process => process.Id)];

    private static string CommandLineOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return ""; // gone
        }
    }
}
