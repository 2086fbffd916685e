using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hangfire;
using Heimdex.Shared.Storage;
using Npgsql;

namespace Heimdex.Tests.Uploads;

/// <summary>Resumable uploads (tus 1.0.0) against the real graph, with a real tus client and with raw requests.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class TusUploadTests(HeimdexGraph graph)
{
    private const int MiB = 1024 * 1024;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static string TusClientDirectory => Path.Combine(TestFiles.RepositoryRoot, "Heimdex.Tests", "Uploads", "TusClient");

    [Fact]
    public async Task Tus_js_client_uploads_with_an_interruption_and_a_resume_and_the_stored_object_is_identical()
    {
        if (!Directory.Exists(Path.Combine(TusClientDirectory, "node_modules", "tus-js-client")))
        {
            var (installed, log) = await TestFiles.RunAsync("npm", TusClientDirectory, "ci", "--no-audit", "--no-fund");
            Assert.True(installed == 0, log);
        }

        var (exitCode, output) = await TestFiles.RunAsync("node", TusClientDirectory,
            "upload.mjs", new Uri(graph.Api, "/api/uploads").ToString(), graph.AliceKey, TestFiles.TestVideo, $"{MiB}");

        Assert.True(exitCode == 0, output);
        var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
        var length = result.GetProperty("length").GetInt64();
        Assert.True(result.GetProperty("resumedSameUpload").GetBoolean());
        Assert.InRange(result.GetProperty("offsetAtInterruption").GetInt64(), 1, length - 1);

        using var alice = graph.Client(graph.AliceKey);
        var upload = await alice.GetFromJsonAsync<JsonElement>(new Uri(result.GetProperty("url").GetString()!).AbsolutePath, Cancellation);
        Assert.Equal("completed", upload.GetProperty("state").GetString());
        var videoId = upload.GetProperty("videoId").GetGuid();
        var video = await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{videoId}", Cancellation);
        Assert.Equal("video/mp4", video.GetProperty("contentType").GetString());
        Assert.Equal("testvideo.mp4", video.GetProperty("originalFileName").GetString());
        Assert.Equal("Uploaded with tus-js-client", video.GetProperty("title").GetString());
        using var s3 = graph.Storage.CreateClient();
        Assert.Equal(TestFiles.Sha256(await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation)),
            await TestFiles.StoredSha256Async(s3, graph.Storage.Bucket, StorageKeys.VideoOriginal(videoId)));
    }

    [Fact]
    public async Task An_upload_broken_off_mid_request_keeps_what_arrived_and_resumes_after_the_api_restarts()
    {
        var payload = TestFiles.Mp4Payload(12 * MiB + 12345); // one full 8 MiB part, then a tail
        using var alice = graph.Client(graph.AliceKey);
        var location = await CreateAsync(alice, payload.Length, "resumed.mp4");

        using (var broken = Patch(location, 0, new BreakingContent(payload, breakAfter: 9 * MiB)))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => alice.SendAsync(broken, Cancellation));
        }

        var offset = await WaitForSettledOffsetAsync(alice, location);
        Assert.InRange(offset, 1, 9 * MiB);

        await graph.Graph.CrashAndWaitForRestartAsync("api");

        Assert.Equal(offset, await WaitForOffsetAsync(alice, location, _ => true));
        using var rest = Patch(location, offset, new ByteArrayContent(payload, (int)offset, payload.Length - (int)offset));
        using var finished = await alice.SendAsync(rest, Cancellation);
        Assert.Equal(HttpStatusCode.NoContent, finished.StatusCode);
        Assert.Equal(payload.Length.ToString(CultureInfo.InvariantCulture), finished.Headers.GetValues("Upload-Offset").Single());

        var upload = await alice.GetFromJsonAsync<JsonElement>(location, Cancellation);
        var videoId = upload.GetProperty("videoId").GetGuid();
        using var s3 = graph.Storage.CreateClient();
        Assert.Equal(TestFiles.Sha256(payload), await TestFiles.StoredSha256Async(s3, graph.Storage.Bucket, StorageKeys.VideoOriginal(videoId)));
        Assert.DoesNotContain(StorageKeys.UploadTail(videoId), (await TestFiles.StorageSnapshotAsync(s3, graph.Storage.Bucket)).Objects);
    }

    [Fact]
    public async Task Bad_tus_requests_get_clear_errors_and_refused_uploads_leave_nothing()
    {
        using var alice = graph.Client(graph.AliceKey);
        var before = await graph.StorageSnapshotAsync();

        using var noVersion = await alice.PostAsync("/api/uploads", null, Cancellation);
        Assert.Equal(HttpStatusCode.PreconditionFailed, noVersion.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await SendCreateAsync(alice, HeimdexGraph.MaxUploadBytes + 1, "big.mp4")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendCreateAsync(alice, 0, "empty.mp4")).StatusCode);

        var location = await CreateAsync(alice, 2000, "notes.mp4");
        using (var wrongOffset = Patch(location, 5, new ByteArrayContent(new byte[10])))
        {
            Assert.Equal(HttpStatusCode.Conflict, (await alice.SendAsync(wrongOffset, Cancellation)).StatusCode);
        }

        using (var wrongType = Patch(location, 0, new ByteArrayContent(new byte[10])))
        {
            wrongType.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await alice.SendAsync(wrongType, Cancellation)).StatusCode);
        }

        using (var text = Patch(location, 0, new ByteArrayContent(Encoding.UTF8.GetBytes(new string('x', 2000)))))
        {
            using var refused = await alice.SendAsync(text, Cancellation);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
            Assert.Equal("Unsupported container", (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("title").GetString());
        }

        using var head = new HttpRequestMessage(HttpMethod.Head, location) { Headers = { { "Tus-Resumable", "1.0.0" } } };
        Assert.Equal(HttpStatusCode.NotFound, (await alice.SendAsync(head, Cancellation)).StatusCode);
        Assert.Empty(await graph.LeftBehindSinceAsync(before));
    }

    [Theory]
    [InlineData("title", 600, "The title is too long")]
    [InlineData("title", 0, "The title has a control character")]
    [InlineData("description", 20_000, "The description is too long")]
    [InlineData("description", 0, "The description has a control character")]
    public async Task Metadata_the_video_could_not_keep_is_refused_before_anything_is_stored(string field, int length, string problem)
    {
        using var alice = graph.Client(graph.AliceKey);
        var before = await graph.StorageSnapshotAsync();
        var uploadsBefore = await graph.CountRowsAsync("Uploads");
        var value = length > 0 ? new string('x', length) : "line\0break";
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/uploads")
        {
            Headers =
            {
                { "Tus-Resumable", "1.0.0" },
                { "Upload-Length", "1000" },
                { "Upload-Metadata", $"filename {Convert.ToBase64String("a.mp4"u8)},{field} {Convert.ToBase64String(Encoding.UTF8.GetBytes(value))}" },
            },
        };

        using var response = await alice.SendAsync(create, Cancellation);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(problem, (await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("title").GetString());
        Assert.Null(response.Headers.Location);
        Assert.Equal(uploadsBefore, await graph.CountRowsAsync("Uploads"));
        Assert.Empty(await graph.LeftBehindSinceAsync(before));
    }

    [Fact]
    public async Task Termination_and_expiry_free_every_trace_of_an_unfinished_upload()
    {
        using var alice = graph.Client(graph.AliceKey);
        var before = await graph.StorageSnapshotAsync();
        var payload = TestFiles.Mp4Payload(3 * MiB);
        var terminated = await StartPartialAsync(alice, payload);
        var abandoned = await StartPartialAsync(alice, payload);
        var during = await graph.StorageSnapshotAsync();
        Assert.Contains(StorageKeys.UploadTail(IdOf(abandoned)), during.Objects);
        Assert.Equal(2, during.MultipartUploads.Except(before.MultipartUploads).Count());

        using var delete = new HttpRequestMessage(HttpMethod.Delete, terminated) { Headers = { { "Tus-Resumable", "1.0.0" } } };
        Assert.Equal(HttpStatusCode.NoContent, (await alice.SendAsync(delete, Cancellation)).StatusCode);

        await using (var connection = new NpgsqlConnection(graph.DatabaseConnectionString))
        {
            await connection.OpenAsync(Cancellation);
            await using var expire = new NpgsqlCommand("UPDATE \"Uploads\" SET \"ExpiresAt\" = now() - interval '1 minute' WHERE \"Id\" = $1", connection)
            {
                Parameters = { new() { Value = IdOf(abandoned) } },
            };
            Assert.Equal(1, await expire.ExecuteNonQueryAsync(Cancellation));
        }

        new RecurringJobManager(graph.Jobs).Trigger(Heimdex.Worker.Uploads.ExpireAbandonedUploadsJob.RecurringJobId);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (await alice.GetAsync(abandoned, Cancellation) is { StatusCode: HttpStatusCode.OK } && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500, Cancellation);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync(abandoned, Cancellation)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync(terminated, Cancellation)).StatusCode);
        Assert.Empty(await graph.LeftBehindSinceAsync(before));
    }

    [Fact]
    [Trait("Category", "Reliability")]
    public async Task An_api_killed_mid_patch_loses_nothing_that_was_stored_and_the_client_resumes_to_the_same_bytes()
    {
        var payload = TestFiles.Mp4Payload(20 * MiB + 4321);
        using var alice = graph.Client(graph.AliceKey);
        var location = await CreateAsync(alice, payload.Length, "killed-mid-patch.mp4");

        // Two parts at once, then a trickle the kill cuts short.
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        using var patch = Patch(location, 0, new TricklingContent(payload, head: 17 * MiB, chunk: 1024, chunks: 3000, TimeSpan.FromMilliseconds(50), sending.Token));
        var writing = alice.SendAsync(patch, sending.Token);
        await WaitForOffsetAsync(alice, location, offset => offset >= 16 * MiB);
        await graph.Graph.CrashAndWaitForRestartAsync("api");
        await Assert.ThrowsAnyAsync<Exception>(() => writing);
        await sending.CancelAsync();

        // What the dead API had recorded is where the upload stands; its writer's lease runs out, and the client resumes.
        var offset = await WaitForOffsetAsync(alice, location, _ => true);
        Assert.InRange(offset, 16 * MiB, 17 * MiB);
        using var finished = await Eventually.PollAsync(async () =>
            {
                using var rest = Patch(location, offset, new ByteArrayContent(payload, (int)offset, payload.Length - (int)offset));
                return await alice.SendAsync(rest, Cancellation);
            },
            response => response.StatusCode != (HttpStatusCode)423, "the dead writer's lease run out", seconds: 60);
        Assert.Equal(HttpStatusCode.NoContent, finished.StatusCode);

        var videoId = (await alice.GetFromJsonAsync<JsonElement>(location, Cancellation)).GetProperty("videoId").GetGuid();
        using var s3 = graph.Storage.CreateClient();
        Assert.Equal(TestFiles.Sha256(payload), await TestFiles.StoredSha256Async(s3, graph.Storage.Bucket, StorageKeys.VideoOriginal(videoId)));
    }

    [Fact]
    [Trait("Category", "Reliability")]
    public async Task Slow_patches_hold_no_database_connection_so_the_api_keeps_answering()
    {
        // More writers at once than a connection pool (100) or the server (max_connections 100) has connections.
        const int writers = 110;
        const int chunks = 16;
        var payload = TestFiles.Mp4Payload(MiB);
        using var alice = graph.Client(graph.AliceKey);
        var locations = await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => CreateAsync(alice, payload.Length, "slow.mp4")));
        (await alice.GetAsync("/api/videos", Cancellation)).Dispose(); // measured below warm, as a running API answers

        // 1 KiB a second for 16 s: above Kestrel's least body rate, slow enough that every PATCH is open at once.
        var patches = locations.Select(async location =>
        {
            using var patch = Patch(location, 0, new TricklingContent(payload, head: 0, chunk: 1024, chunks, TimeSpan.FromSeconds(1)));
            using var response = await alice.SendAsync(patch, Cancellation);
            return (response.StatusCode, Offset: response.Headers.TryGetValues("Upload-Offset", out var offset) ? offset.Single() : null);
        }).ToList();

        var listings = new List<double>();
        while (!patches.All(p => p.IsCompleted))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using (var list = await alice.GetAsync("/api/videos", Cancellation))
            {
                Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            }

            listings.Add(clock.Elapsed.TotalMilliseconds);
            await Task.Delay(250, Cancellation);
        }

        Assert.True(listings.Count >= 20, $"listed the videos only {listings.Count} times while the uploads ran");
        Assert.True(listings.Max() < 1000, $"GET /api/videos took {string.Join(", ", listings.Select(ms => $"{ms:F0}"))} ms while {writers} uploads were written to");
        var ended = await Task.WhenAll(patches);
        Assert.All(ended, e => Assert.Equal((HttpStatusCode.NoContent, $"{chunks * 1024}"), e));
        foreach (var location in locations)
        {
            Assert.Equal((long)chunks * 1024, await WaitForOffsetAsync(alice, location, _ => true));
            using var delete = new HttpRequestMessage(HttpMethod.Delete, location) { Headers = { { "Tus-Resumable", "1.0.0" } } };
            Assert.Equal(HttpStatusCode.NoContent, (await alice.SendAsync(delete, Cancellation)).StatusCode);
        }
    }

    [Fact]
    [Trait("Category", "Reliability")]
    public async Task Deleting_an_upload_while_a_patch_writes_to_it_answers_at_once_and_the_patch_leaves_nothing()
    {
        using var alice = graph.Client(graph.AliceKey);
        var before = await graph.StorageSnapshotAsync();
        var payload = TestFiles.Mp4Payload(12 * MiB);
        var location = await CreateAsync(alice, payload.Length, "deleted-while-sent.mp4");

        // A full part at once (so the multipart upload exists and holds a part), then a trickle that would go on for minutes.
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        using var patch = Patch(location, 0, new TricklingContent(payload, head: 9 * MiB, chunk: 1024, chunks: 3000, TimeSpan.FromMilliseconds(100), sending.Token));
        var writing = alice.SendAsync(patch, sending.Token);
        await WaitForOffsetAsync(alice, location, offset => offset >= 8 * MiB);
        Assert.NotEmpty((await graph.StorageSnapshotAsync()).MultipartUploads.Except(before.MultipartUploads));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var delete = new HttpRequestMessage(HttpMethod.Delete, location) { Headers = { { "Tus-Resumable", "1.0.0" } } };
        Assert.Equal(HttpStatusCode.NoContent, (await alice.SendAsync(delete, Cancellation)).StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"DELETE waited {clock.Elapsed} for the PATCH");
        Assert.False(writing.IsCompleted);

        // The PATCH notices within its lease's renewal and ends, removing the parts and the tail it wrote meanwhile.
        var ended = await Task.WhenAny(writing, Task.Delay(TimeSpan.FromSeconds(30), Cancellation));
        Assert.Same(writing, ended);
        try
        {
            using var response = await writing;
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        catch (HttpRequestException)
        {
            // Answered before the body was all sent, the server may close the connection instead of reading the rest.
        }

        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync(location, Cancellation)).StatusCode);
        Assert.Empty(await graph.LeftBehindSinceAsync(before));
        await sending.CancelAsync();
    }

    private async Task<string> StartPartialAsync(HttpClient client, byte[] payload)
    {
        var location = await CreateAsync(client, payload.Length, "partial.mp4");
        using var first = Patch(location, 0, new ByteArrayContent(payload, 0, MiB));
        using var response = await client.SendAsync(first, Cancellation);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        return location;
    }

    private static Guid IdOf(string location) => Guid.Parse(location.Split('/')[^1]);

    private static async Task<HttpResponseMessage> SendCreateAsync(HttpClient client, long length, string fileName)
    {
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/uploads")
        {
            Headers =
            {
                { "Tus-Resumable", "1.0.0" },
                { "Upload-Length", length.ToString(CultureInfo.InvariantCulture) },
                { "Upload-Metadata", $"filename {Convert.ToBase64String(Encoding.UTF8.GetBytes(fileName))}" },
            },
        };
        return await client.SendAsync(create, Cancellation);
    }

    private static async Task<string> CreateAsync(HttpClient client, long length, string fileName)
    {
        using var response = await SendCreateAsync(client, length, fileName);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("1.0.0", response.Headers.GetValues("Tus-Resumable").Single());
        Assert.True(response.Headers.Contains("Upload-Expires"));
        return response.Headers.Location!.OriginalString;
    }

    private static HttpRequestMessage Patch(string location, long offset, HttpContent body)
    {
        body.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        return new HttpRequestMessage(HttpMethod.Patch, location)
        {
            Headers = { { "Tus-Resumable", "1.0.0" }, { "Upload-Offset", offset.ToString(CultureInfo.InvariantCulture) } },
            Content = body,
        };
    }

    /// <summary>
    /// The offset once the server has finished with the broken request: it records each full part at once and the
    /// bytes of the unfinished one when it notices the drop, so the offset rises in steps and then stays put.
    /// </summary>
    private static async Task<long> WaitForSettledOffsetAsync(HttpClient client, string location)
    {
        var offset = await WaitForOffsetAsync(client, location, o => o > 0);
        while (true)
        {
            await Task.Delay(1500, Cancellation);
            var again = await WaitForOffsetAsync(client, location, _ => true);
            if (again == offset)
            {
                return offset;
            }

            offset = again;
        }
    }

    /// <summary>The server notices a dropped connection a moment after the client does.</summary>
    private static async Task<long> WaitForOffsetAsync(HttpClient client, string location, Func<long, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var head = new HttpRequestMessage(HttpMethod.Head, location) { Headers = { { "Tus-Resumable", "1.0.0" } } };
            using var response = await client.SendAsync(head, Cancellation);
            if (response.IsSuccessStatusCode)
            {
                var offset = long.Parse(response.Headers.GetValues("Upload-Offset").Single(), CultureInfo.InvariantCulture);
                if (condition(offset) || DateTime.UtcNow > deadline)
                {
                    return offset;
                }
            }

            await Task.Delay(200, Cancellation);
        }
    }

    /// <summary>A request body that sends <paramref name="head"/> bytes at once, then a chunk at a time with pauses between.</summary>
    private sealed class TricklingContent(byte[] bytes, int head, int chunk, int chunks, TimeSpan pause, CancellationToken stop = default) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, head), stop);
            for (var sent = 0; sent < chunks; sent++)
            {
                await stream.FlushAsync(stop);
                await Task.Delay(pause, stop);
                await stream.WriteAsync(bytes.AsMemory(head + (sent * chunk), chunk), stop);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = head + ((long)chunk * chunks);
            return true;
        }
    }

    /// <summary>A request body that sends part of its bytes and then breaks, as a dropped connection does.</summary>
    private sealed class BreakingContent(byte[] bytes, int breakAfter) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, breakAfter));
            await stream.FlushAsync();
            await Task.Delay(300);
            throw new IOException("connection dropped (simulated)");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }
}
