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
    private readonly LoopbackTcpServer _server;
    private Uri? _upstream;
    private int _stalled;

    public StallingStorageProxy() => _server = new LoopbackTcpServer(ForwardAsync);

    public int Port => _server.Port;

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

    private async Task ForwardAsync(TcpClient client, CancellationToken stop)
    {
        var upstream = new TcpClient();
        _server.Hold(upstream);
        try
        {
            await upstream.ConnectAsync(_upstream!.Host, _upstream.Port, stop);
            var (fromClient, toUpstream) = (client.GetStream(), upstream.GetStream());
            var first = new byte[16 * 1024];
            var read = await fromClient.ReadAsync(first, stop);
            var requestLine = Encoding.ASCII.GetString(first, 0, read).Split("\r\n")[0];
            var stall = Stalling && requestLine.StartsWith("GET ", StringComparison.Ordinal) && requestLine.Contains("/original", StringComparison.Ordinal);
            await toUpstream.WriteAsync(first.AsMemory(0, read), stop);
            var requests = fromClient.CopyToAsync(toUpstream, stop);
            var answers = stall ? CopyThenStallAsync(toUpstream, fromClient, stop) : toUpstream.CopyToAsync(fromClient, stop);
            await Task.WhenAny(requests, answers);
        }
        finally
        {
            // One side ended (or storage could not be reached): the other learns it, as through a real proxy.
            client.Dispose();
            upstream.Dispose();
        }
    }

    private async Task CopyThenStallAsync(Stream from, Stream to, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        var left = StallAfterBytes;
        while (left > 0)
        {
            var read = await from.ReadAsync(buffer.AsMemory(0, Math.Min(left, buffer.Length)), stop);
            if (read == 0)
            {
                return;
            }

            await to.WriteAsync(buffer.AsMemory(0, read), stop);
            left -= read;
        }

        Interlocked.Increment(ref _stalled);
        await Task.Delay(Timeout.Infinite, stop);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
