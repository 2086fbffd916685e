using System.Net;
using System.Net.Sockets;

namespace Heimdex.Tests.Pipeline;

/// <summary>
/// The plumbing of the tests' misbehaving servers: a loopback listener that hands each connection to a handler and
/// holds every connection open (the handler's, and any it <see cref="Hold"/>s) until disposed, so a stall is silence,
/// not a closed socket. A connection the other side drops ends its handler quietly. It listens on a free loopback
/// port unless given another address.
/// </summary>
public sealed class LoopbackTcpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _held = [];
    private readonly Task _accepting;

    public LoopbackTcpServer(Func<TcpClient, CancellationToken, Task> handle, IPEndPoint? listenOn = null)
    {
        _listener = new TcpListener(listenOn ?? new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Start();
        _accepting = AcceptAsync(handle);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Hold(TcpClient connection)
    {
        lock (_held)
        {
            _held.Add(connection);
        }
    }

    private async Task AcceptAsync(Func<TcpClient, CancellationToken, Task> handle)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Hold(client);
            _ = HandleAsync(handle, client);
        }
    }

    private async Task HandleAsync(Func<TcpClient, CancellationToken, Task> handle, TcpClient client)
    {
        try
        {
            await handle(client, _stop.Token);
        }
        catch (Exception error) when (error is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_held)
        {
            _held.ForEach(connection => connection.Dispose());
        }

        await _accepting;
        _stop.Dispose();
    }
}
