using Microsoft.Extensions.Configuration;

namespace Heimdex.Shared;

/// <summary>
/// The names under which the AppHost (or an operator) hands each service its connections, as
/// <c>ConnectionStrings__&lt;name&gt;</c> environment variables — Aspire's convention.
/// </summary>
public static class ConnectionNames
{
    public const string Database = "heimdex";
    public const string Redis = "redis";
    public const string Storage = "storage";

    public static string Required(this IConfiguration configuration, string name) =>
        configuration.GetConnectionString(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"Connection string '{name}' is missing. Start Heimdex with 'dotnet run --project Heimdex.AppHost', " +
                $"or set the environment variable ConnectionStrings__{name}.");
}

/// <summary>Exit codes the services and the AppHost agree on.</summary>
public static class ServiceExitCodes
{
    /// <summary>The service found its configuration or environment unusable; restarting it cannot help (sysexits' EX_CONFIG).</summary>
    public const int Misconfigured = 78;
}
