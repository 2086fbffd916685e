using Microsoft.Extensions.Configuration;

namespace Heimdex.Shared;

public static class ConnectionStrings
{
    /// <summary>A connection string the service cannot run without, or an error that says how to provide it.</summary>
    public static string Required(this IConfiguration configuration, string name) =>
        configuration.GetConnectionString(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"Connection string '{name}' is missing. Start Heimdex with 'dotnet run --project Heimdex.AppHost', " +
                $"or set the environment variable ConnectionStrings__{name}.");
}
