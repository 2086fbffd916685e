using Heimdex.Shared.Models;

namespace Heimdex.AppHost.Hosting;

/// <summary>The AppHost's command line.</summary>
public sealed record AppHostOptions(string DataDirectory, bool Fresh, int ApiPort, bool InstallOnly, string? OtlpEndpoint, string ModelCacheDirectory)
{
    public const int DefaultApiPort = 5180;

    public const string Usage = """
        Usage: dotnet run --project Heimdex.AppHost [-- options]
          --data-dir DIR        where PostgreSQL, Redis and storage keep their data (default: .heimdex/ at the repository root)
          --fresh               wipe the data directory first
          --api-port PORT       the API's port (default 5180)
          --otlp-endpoint URL   export the services' traces, metrics and logs over OTLP (or set OTEL_EXPORTER_OTLP_ENDPOINT)
          --model-cache DIR     where model packages are installed (default: ~/.cache/heimdex/models; kept by --fresh)
          --install             install the system packages and models the graph needs, then exit
        """;

    public static AppHostOptions Parse(string[] args, string defaultDataDirectory)
    {
        var options = new AppHostOptions(defaultDataDirectory, false, DefaultApiPort, false,
            Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 } otlp ? otlp : null,
            ModelOptions.DefaultCacheDirectory);
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new HostingException($"{args[i]} needs a value.\n{Usage}");
            options = args[i] switch
            {
                "--data-dir" => options with { DataDirectory = Value() },
                "--fresh" => options with { Fresh = true },
                "--api-port" => options with
                {
                    ApiPort = int.TryParse(Value(), out var port) && port is > 0 and < 65536
                        ? port
                        : throw new HostingException($"--api-port takes a port number.\n{Usage}"),
                },
                "--otlp-endpoint" => options with { OtlpEndpoint = Value() },
                "--model-cache" => options with { ModelCacheDirectory = Value() },
                "--install" => options with { InstallOnly = true },
                var unknown => throw new HostingException($"Unknown option '{unknown}'.\n{Usage}"),
            };
        }

        return options with
        {
            DataDirectory = Path.GetFullPath(options.DataDirectory),
            ModelCacheDirectory = Path.GetFullPath(options.ModelCacheDirectory),
        };
    }
}
