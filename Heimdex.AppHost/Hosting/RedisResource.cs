using System.Net.Sockets;
using System.Text;

namespace Heimdex.AppHost.Hosting;

/// <summary>Redis from the system packages, password-protected, persisting with an append-only file.</summary>
public sealed class RedisResource(string name) : Resource(name), IResourceWithConnectionString
{
    private string _password = "";
    private int _port;

    public override IEnumerable<SystemRequirement> Requirements => [SystemRequirement.RedisServer];

    public override IReadOnlyList<ResourceEndpoint> Endpoints => [new(Name, $"redis://127.0.0.1:{_port}")];

    public string ConnectionName => Name;

    public Resource Owner => this;

    public string ConnectionString => $"127.0.0.1:{_port},password={_password}";

    public override Task<ProcessSpec> PrepareAsync(HostContext context, CancellationToken cancellationToken)
    {
        var dataDirectory = Directory.CreateDirectory(Path.Combine(context.DataDirectory, Name)).FullName;
        _password = context.Secret($"{Name}-password");
        _port = HostContext.FreePort();
        // The password goes in a private file, not on the command line where any user's `ps` would show it.
        var configFile = Path.Combine(dataDirectory, "redis.conf");
        HostContext.WritePrivateFile(configFile, $"""
            port {_port}
            bind 127.0.0.1
            protected-mode yes
            dir {dataDirectory}
            requirepass {_password}
            appendonly yes
            save ""
            daemonize no
            """);
        return Task.FromResult(new ProcessSpec(
            SystemPackages.Resolve(SystemRequirement.RedisServer), [configFile], new Dictionary<string, string>(), dataDirectory));
    }

    public override async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", _port, cancellationToken);
            var stream = client.GetStream();
            var command = $"*2\r\n$4\r\nAUTH\r\n${Encoding.UTF8.GetByteCount(_password)}\r\n{_password}\r\n*1\r\n$4\r\nPING\r\n";
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
