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
        await using var storage = new StallingServer(await File.ReadAllBytesAsync(TestFiles.TestVideo, TestContext.Current.CancellationToken), stallAfter: 256 * 1024);
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
        await using var unreadable = new StallingServer(TestFiles.NotAVideo(300_000), stallAfter: int.MaxValue);
        await using var failing = new StallingServer([], stallAfter: 0, status: "503 Service Unavailable");
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
    private sealed class StallingServer : IAsyncDisposable
    {
        private readonly LoopbackTcpServer _server;
        private int _requests;

        public StallingServer(byte[] file, int stallAfter, string status = "200 OK") => _server = new LoopbackTcpServer(async (client, stop) =>
        {
            Interlocked.Increment(ref _requests);
            var stream = client.GetStream();
            _ = await stream.ReadAsync(new byte[8192], stop);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: video/mp4\r\nContent-Length: {file.Length}\r\n\r\n"), stop);
            await stream.WriteAsync(file.AsMemory(0, Math.Min(stallAfter, file.Length)), stop);
            await stream.FlushAsync(stop);
        });

        public string Url => $"http://127.0.0.1:{_server.Port}/original";

        public int Requests => Volatile.Read(ref _requests);

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }
}
