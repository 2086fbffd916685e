using System.Net;
using System.Net.Sockets;
using System.Text;
using Heimdex.Shared.Storage;

namespace Heimdex.Tests.Pipeline;

/// <summary>
/// A TCP proxy in front of storage. While <see cref="Stalling"/>, a connection whose first request reads a video's
/// original gets the first <see cref="StallAfterBytes"/> bytes of the answer and then silence, the connection held
/// open: storage that hangs mid-read rather than failing.
/// </summary>
public sealed class StallingStorageProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _connections = [];
    private readonly Task _accepting;
    private Uri? _upstream;
    private int _stalled;

    public StallingStorageProxy()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public bool Stalling { get; set; }

    public int StallAfterBytes { get; init; } = 1024 * 1024;

    /// <summary>How many reads have stalled so far.</summary>
    public int Stalled => Volatile.Read(ref _stalled);

    /// <summary>The same storage, reached through this proxy (its keys unchanged: the signatures name the proxy's address).</summary>
    public string Rewrite(string connectionString)
    {
        var storage = StorageConnection.Parse(connectionString);
        _upstream = storage.Endpoint;
        return (storage with { Endpoint = new Uri($"http://127.0.0.1:{Port}") }).ToString();
    }

    private async Task AcceptAsync()
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

            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        lock (_connections)
        {
            _connections.AddRange([client, upstream]);
        }

        try
        {
            await upstream.ConnectAsync(_upstream!.Host, _upstream.Port, _stop.Token);
            var (fromClient, toUpstream) = (client.GetStream(), upstream.GetStream());
            var first = new byte[16 * 1024];
            var read = await fromClient.ReadAsync(first, _stop.Token);
            var requestLine = Encoding.ASCII.GetString(first, 0, read).Split("\r\n")[0];
            var stall = Stalling && requestLine.StartsWith("GET ", StringComparison.Ordinal) && requestLine.Contains("/original", StringComparison.Ordinal);
            await toUpstream.WriteAsync(first.AsMemory(0, read), _stop.Token);
            var requests = fromClient.CopyToAsync(toUpstream, _stop.Token);
            var answers = stall ? CopyThenStallAsync(toUpstream, fromClient) : toUpstream.CopyToAsync(fromClient, _stop.Token);
            await Task.WhenAny(requests, answers);
        }
        catch (Exception error) when (error is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
        }
    }

    private async Task CopyThenStallAsync(Stream from, Stream to)
    {
        var buffer = new byte[64 * 1024];
        var left = StallAfterBytes;
        while (left > 0)
        {
            var read = await from.ReadAsync(buffer.AsMemory(0, Math.Min(left, buffer.Length)), _stop.Token);
            if (read == 0)
            {
                return;
            }

            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            left -= read;
        }

        Interlocked.Increment(ref _stalled);
        await Task.Delay(Timeout.Infinite, _stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_connections)
        {
            _connections.ForEach(connection => connection.Dispose());
        }

        await _accepting;
        _stop.Dispose();
    }
}
