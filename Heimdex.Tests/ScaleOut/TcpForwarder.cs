using System.Net;
using System.Net.Sockets;
using Heimdex.Tests.Pipeline;

namespace Heimdex.Tests.ScaleOut;

/// <summary>Listens on one address and passes each connection, both ways, to a server listening on another: a router's port forward.</summary>
public sealed class TcpForwarder : IAsyncDisposable
{
    private readonly LoopbackTcpServer _server;
    private readonly IPEndPoint _target;

    public TcpForwarder(IPEndPoint listenOn, IPEndPoint target)
    {
        _target = target;
        _server = new LoopbackTcpServer(ForwardAsync, listenOn);
    }

    private async Task ForwardAsync(TcpClient client, CancellationToken stop)
    {
        using var upstream = new TcpClient();
        _server.Hold(upstream);
        try
        {
            await upstream.ConnectAsync(_target, stop);
            var (fromClient, toUpstream) = (client.GetStream(), upstream.GetStream());
            await Task.WhenAny(fromClient.CopyToAsync(toUpstream, stop), toUpstream.CopyToAsync(fromClient, stop));
        }
        finally
        {
            client.Dispose(); // one side ended: the other learns it
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
