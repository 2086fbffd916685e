using System.Globalization;

namespace Heimdex.AppHost.Reporting;

/// <summary>The process that is the service, as opposed to the one DCP started for it.</summary>
public static class ServiceProcess
{
    /// <summary>
    /// DCP runs a project with <c>dotnet run</c>, which starts the service as its child and waits; everything else it
    /// runs is the service itself. Null while <c>dotnet run</c> has not started the service yet.
    /// </summary>
    public static int? Of(int startedPid)
    {
        if (!IsDotnetRun(startedPid))
        {
            return startedPid;
        }

        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && ParentOf(pid) == startedPid)
            {
                return pid;
            }
        }

        return null;
    }

    private static bool IsDotnetRun(int pid)
    {
        try
        {
            var arguments = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            return arguments is [var program, "run", ..] && Path.GetFileName(program) == "dotnet";
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name in parentheses may hold spaces; the fields after it are state, then parent pid.
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
