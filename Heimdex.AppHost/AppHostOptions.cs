using System.Reflection;
using Heimdex.Conventions;

namespace Heimdex.AppHost;

/// <summary>The AppHost's command line.</summary>
public sealed record AppHostOptions(
    string DataDirectory,
    bool Fresh,
    int ApiPort,
    int DashboardPort,
    bool DashboardHttps,
    bool InstallOnly,
    string? OtlpEndpoint,
    string ModelCacheDirectory,
    int Workers = 1,
    int ApiReplicas = 1)
{
    /// <summary>More processes of one service than this on one machine only compete for its cores.</summary>
    public const int MaxReplicas = 16;

    public const int DefaultApiPort = 5180;
    public const int DefaultDashboardPort = 18888;

    public const string Usage = """
        Usage: dotnet run --project Heimdex.AppHost [-- options]
          --data-dir DIR          where PostgreSQL, Redis and storage keep their data (default: .heimdex/ at the repository root)
          --fresh                 wipe the data directory first
          --api-port PORT         the API's port (default 5180)
          --dashboard-port PORT   the Aspire dashboard's port on 127.0.0.1 (default 18888)
          --dashboard-https       serve the dashboard over https with the .NET development certificate
          --otlp-endpoint URL     send the services' traces, metrics and logs there instead of to the dashboard
          --model-cache DIR       where model packages are installed (default: ~/.cache/heimdex/models; kept by --fresh)
          --workers N             run N worker processes (default 1); they share the queue and each takes stages
          --api-replicas N        run N API processes (default 1), the first on --api-port, the others on free ports
          --install               install the system packages and models the graph needs, then exit
        """;

    /// <summary>The options, or the usage and exit code 2 for a command line that is not.</summary>
    public static AppHostOptions ParseOrExit(string[] args)
    {
        try
        {
            return Parse(args, Path.Combine(RepositoryRoot, ".heimdex"));
        }
        catch (AppHostException error)
        {
            Console.Error.WriteLine(error.Message);
            Environment.Exit(2);
            throw;
        }
    }

    public static AppHostOptions Parse(string[] args, string defaultDataDirectory)
    {
        var options = new AppHostOptions(defaultDataDirectory, false, DefaultApiPort, DefaultDashboardPort, false, false,
            Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 } otlp ? otlp : null,
            ModelPackage.DefaultCacheDirectory);
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new AppHostException($"{args[i]} needs a value.\n{Usage}");
            int Port() => int.TryParse(Value(), out var port) && port is > 0 and < 65536
                ? port
                : throw new AppHostException($"{args[i - 1]} takes a port number.\n{Usage}");
            int Count() => int.TryParse(Value(), out var count) && count is > 0 and <= MaxReplicas
                ? count
                : throw new AppHostException($"{args[i - 1]} takes a number from 1 to {MaxReplicas}.\n{Usage}");
            options = args[i] switch
            {
                "--data-dir" => options with { DataDirectory = Value() },
                "--fresh" => options with { Fresh = true },
                "--api-port" => options with { ApiPort = Port() },
                "--dashboard-port" => options with { DashboardPort = Port() },
                "--dashboard-https" => options with { DashboardHttps = true },
                "--otlp-endpoint" => options with { OtlpEndpoint = Value() },
                "--model-cache" => options with { ModelCacheDirectory = Value() },
                "--workers" => options with { Workers = Count() },
                "--api-replicas" => options with { ApiReplicas = Count() },
                "--install" => options with { InstallOnly = true },
                var unknown => throw new AppHostException($"Unknown option '{unknown}'.\n{Usage}"),
            };
        }

        return options with
        {
            DataDirectory = Path.GetFullPath(options.DataDirectory),
            ModelCacheDirectory = Path.GetFullPath(options.ModelCacheDirectory),
        };
    }

    private static string RepositoryRoot =>
        typeof(AppHostOptions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value ?? Directory.GetCurrentDirectory();
}

/// <summary>An error whose message is the whole story for the user: printed as is, without a stack trace.</summary>
public sealed class AppHostException(string message) : Exception(message);
