using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Microsoft.Extensions.Options;

namespace Heimdex.Tests.Pipeline;

/// <summary>Storage that stalls or fails mid-read: ffmpeg gives up instead of waiting forever, and the failure is storage's, not the file's.</summary>
public sealed class StorageStallTests
{
    [Fact]
    public async Task An_ffmpeg_read_from_storage_that_stalls_fails_after_the_read_timeout_and_leaves_no_ffmpeg()
    {
        using var storage = new StallingServer(await File.ReadAllBytesAsync(TestFiles.TestVideo, TestContext.Current.CancellationToken), stallAfter: 256 * 1024);
        var ffmpeg = new FFmpeg(Options.Create(new PipelineOptions { StorageReadTimeout = TimeSpan.FromSeconds(2) }));
        var clock = Stopwatch.StartNew();

        var read = ffmpeg.RunAsync(["-i", storage.Url, "-map", "0:v:0", "-f", "null", "-"], readOutput: null, TestContext.Current.CancellationToken);

        // Without a read timeout this waits as long as the server holds the connection open (here: until the test ends).
        await Assert.ThrowsAsync<FFmpegException>(() => read.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"gave up after {clock.Elapsed}");
        Assert.True(storage.Requests > 0);
        // Other tests run ffmpeg from this process too: the one that read this server is the one that must be gone.
        Assert.Empty(MediaProcesses.Naming(storage.Url));
    }

    [Fact]
    public async Task Storage_that_refuses_or_answers_an_error_is_told_apart_from_a_file_that_is_not_a_video()
    {
        using var unreadable = new StallingServer(TestFiles.NotAVideo(300_000), stallAfter: int.MaxValue);
        using var failing = new StallingServer([], stallAfter: 0, status: "503 Service Unavailable");
        var closedPort = new TcpListener(IPAddress.Loopback, 0);
        closedPort.Start();
        var refused = $"http://127.0.0.1:{((IPEndPoint)closedPort.LocalEndpoint).Port}/original";
        closedPort.Stop();

        Assert.True(StorageReadErrors.Describe(await ProbeErrorAsync(refused)));
        Assert.True(StorageReadErrors.Describe(await ProbeErrorAsync(failing.Url)));
        Assert.False(StorageReadErrors.Describe(await ProbeErrorAsync(unreadable.Url)));
    }

    /// <summary>What ffprobe said, run as the validate stage runs it, about a URL it could not probe.</summary>
    private static async Task<string> ProbeErrorAsync(string url)
    {
        var ffmpeg = new FFmpeg(Options.Create(new PipelineOptions { StorageReadTimeout = TimeSpan.FromSeconds(5) }));
        var error = await Assert.ThrowsAnyAsync<FFMpegCore.Exceptions.FFMpegException>(() => ffmpeg.ProbeAsync(new Uri(url), TestContext.Current.CancellationToken));
        return error.Message;
    }

    /// <summary>Answers every GET with the whole file's length and the status, sends the first bytes, then holds the connection silent.</summary>
    private sealed class StallingServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<TcpClient> _held = [];
        private int _requests;

        public StallingServer(byte[] file, int stallAfter, string status = "200 OK")
        {
            _listener.Start();
            _ = AcceptAsync(file, stallAfter, status);
        }

        public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/original";

        public int Requests => Volatile.Read(ref _requests);

        private async Task AcceptAsync(byte[] file, int stallAfter, string status)
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

                lock (_held)
                {
                    _held.Add(client);
                }

                Interlocked.Increment(ref _requests);
                var stream = client.GetStream();
                var request = new byte[8192];
                _ = await stream.ReadAsync(request, _stop.Token);
                var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: video/mp4\r\nContent-Length: {file.Length}\r\n\r\n");
                await stream.WriteAsync(head, _stop.Token);
                await stream.WriteAsync(file.AsMemory(0, Math.Min(stallAfter, file.Length)), _stop.Token);
                await stream.FlushAsync(_stop.Token);
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_held)
            {
                _held.ForEach(client => client.Dispose());
            }
        }
    }
}
