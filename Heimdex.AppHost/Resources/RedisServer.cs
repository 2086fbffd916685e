using System.Net.Sockets;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Heimdex.AppHost.Provisioning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Heimdex.AppHost.Resources;

/// <summary>Redis from Debian's packages, password-protected, persisting with an append-only file in its data directory.</summary>
public sealed class RedisServerResource(string name, string dataPath, ParameterResource password)
    : ExecutableResource(name, "redis-server", dataPath), IResourceWithConnectionString
{
    internal const string EndpointName = "tcp";

    public string DataPath { get; } = dataPath;

    public ParameterResource Password { get; } = password;

    public EndpointReference Endpoint => new(this, EndpointName);

    public string ConfigFile => Path.Combine(DataPath, "redis.conf");

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Endpoint.Property(EndpointProperty.HostAndPort)},password={Password}");
}

public static class RedisServerExtensions
{
    public static IResourceBuilder<RedisServerResource> AddRedisServer(this IDistributedApplicationBuilder builder, string name, DataDirectory data)
    {
        var password = builder.AddParameter($"{name}-password", () => data.Secret($"{name}-password"), secret: true);
        var server = new RedisServerResource(name, Path.Combine(data.Path, name), password.Resource);
        var port = DataDirectory.FreePort();
        var healthCheck = $"{name}_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthCheck, async cancellationToken =>
            await PingAsync(port, (await server.Password.GetValueAsync(cancellationToken))!, cancellationToken)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("Redis does not answer PING yet."));

        // The password goes in a private file, not on the command line where any user's `ps` would show it.
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server, async (_, cancellationToken) =>
        {
            DataDirectory.CreatePrivateFolder(server.DataPath);
            DataDirectory.WritePrivateFile(server.ConfigFile, $"""
                port {port}
                bind 127.0.0.1
                protected-mode yes
                dir {server.DataPath}
                requirepass {await server.Password.GetValueAsync(cancellationToken)}
                appendonly yes
                save ""
                daemonize no
                """);
        });

        return builder.AddResource(server)
            .WithEndpoint(RedisServerResource.EndpointName, endpoint =>
            {
                (endpoint.Port, endpoint.TargetPort, endpoint.IsProxied, endpoint.TargetHost, endpoint.UriScheme) =
                    (port, port, false, "127.0.0.1", "redis");
            })
            .WithArgs(server.ConfigFile)
            .WithSystemPackages(SystemRequirement.RedisServer)
            .WithHealthCheck(healthCheck)
            .WithIconName("Memory");
    }

    /// <summary>AUTH and PING in Redis's own protocol: the AppHost needs no Redis client for one health check.</summary>
    private static async Task<bool> PingAsync(int port, string password, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, cancellationToken);
            var stream = client.GetStream();
            var command = $"*2\r\n$4\r\nAUTH\r\n${Encoding.UTF8.GetByteCount(password)}\r\n{password}\r\n*1\r\n$4\r\nPING\r\n";
            await stream.WriteAsync(Encoding.UTF8.GetBytes(command), cancellationToken);
            var reply = new StringBuilder();
            var buffer = new byte[256];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            while (!reply.ToString().Contains("+PONG", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    return false;
                }

                reply.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }

            return true;
        }
        catch (Exception error) when (error is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
