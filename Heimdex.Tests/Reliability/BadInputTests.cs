using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Heimdex.Tests.Pipeline;
using Heimdex.Tests.Uploads;

namespace Heimdex.Tests.Reliability;

/// <summary>Inputs made to be odd, broken or lying: each gets a clear answer, and nothing stops or sticks.</summary>
[Trait("Category", "Reliability")]
[Collection(HeimdexGraphCollection.Name)]
public sealed class BadInputTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Odd_and_lying_videos_end_indexed_or_failed_with_a_reason_within_minutes_and_the_worker_survives()
    {
        var workerPid = await graph.Graph.ServicePidAsync("worker");
        using var alice = graph.Client(graph.AliceKey);
        var inputs = new Dictionary<string, string>
        {
            ["one-pixel.mp4"] = await MediaFactory.OnePixelAsync(),
            ["fifty-audio-streams.mp4"] = await MediaFactory.ManyAudioStreamsAsync(50),
            ["declares-ten-hours.mp4"] = await MediaFactory.DeclaringDurationAsync(TimeSpan.FromHours(10)),
        };
        var random = new byte[300_000];
        new Random(17).NextBytes(random);
        var ids = new Dictionary<string, Guid>
        {
            // Random bytes behind an MP4's first bytes: stored (it sniffs as MP4), refused by validation.
            ["random-after-a-header.mp4"] = await VideoUploadTests.UploadAsync(alice, [.. TestFiles.Mp4Payload(64), .. random], "random-after-a-header.mp4"),
        };
        foreach (var (name, path) in inputs)
        {
            ids[name] = await VideoUploadTests.UploadAsync(alice, await File.ReadAllBytesAsync(path, Cancellation), name);
        }

        var ended = new Dictionary<string, JsonElement>();
        foreach (var (name, id) in ids)
        {
            ended[name] = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() is "indexed" or "failed", $"{name} ended", seconds: 240);
        }

        foreach (var (name, video) in ended)
        {
            Assert.DoesNotContain(video.GetProperty("stages").EnumerateArray(), s => s.GetProperty("state").GetString() is "running" or "queued");
            if (video.GetProperty("state").GetString() == "failed")
            {
                var error = video.GetProperty("error").GetString() ?? "";
                Assert.Matches("^[a-z_]+: .{10,}", error);
                Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
                Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
            }

            TestContext.Current.SendDiagnosticMessage($"{name}: {video.GetProperty("state").GetString()} {video.GetProperty("error")}");
        }

        Assert.Equal("failed", ended["random-after-a-header.mp4"].GetProperty("state").GetString());
        Assert.StartsWith("validate: ", ended["random-after-a-header.mp4"].GetProperty("error").GetString());
        // Tones in fifty streams and a picture: nothing wrong with it, so it is indexed (from its first audio stream).
        Assert.Equal("indexed", ended["fifty-audio-streams.mp4"].GetProperty("state").GetString());
        Assert.Equal(workerPid, await graph.Graph.ServicePidAsync("worker"));
    }

    [Fact]
    public async Task Absurd_upload_lengths_and_names_are_answered_plainly()
    {
        using var alice = graph.Client(graph.AliceKey);
        foreach (var length in (string[])["18446744073709551616", "-1", "1e9", "0x100", " ", "12 34"])
        {
            using var create = new HttpRequestMessage(HttpMethod.Post, "/api/uploads")
            {
                Headers = { { "Tus-Resumable", "1.0.0" } },
            };
            create.Headers.TryAddWithoutValidation("Upload-Length", length);
            using var response = await alice.SendAsync(create, Cancellation);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"Upload-Length '{length}' answered {(int)response.StatusCode}");
        }

        // A name climbing out of folders and holding a NUL is kept as a name only, on both upload paths.
        const string hostile = "../../etc/passwd\0.mp4";
        // A NUL cannot stand in a plain filename parameter; RFC 5987's filename* carries any character, percent-encoded.
        var formFile = new ByteArrayContent(TestFiles.Mp4Payload(20_000));
        formFile.Headers.TryAddWithoutValidation("Content-Disposition", $"form-data; name=\"file\"; filename*=UTF-8''{Uri.EscapeDataString(hostile)}");
        using var form = new MultipartFormDataContent { formFile };
        using var formUpload = await alice.PostAsync("/api/videos", form, Cancellation);
        Assert.Equal(HttpStatusCode.Accepted, formUpload.StatusCode);
        var formVideo = (await formUpload.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("id").GetGuid();
        using var tus = new HttpRequestMessage(HttpMethod.Post, "/api/uploads")
        {
            Headers =
            {
                { "Tus-Resumable", "1.0.0" },
                { "Upload-Length", "20000" },
                { "Upload-Metadata", $"filename {Convert.ToBase64String(Encoding.UTF8.GetBytes(hostile))}" },
            },
        };
        using var created = await alice.SendAsync(tus, Cancellation);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, created.Headers.Location)
        {
            Headers = { { "Tus-Resumable", "1.0.0" }, { "Upload-Offset", "0" } },
            Content = new ByteArrayContent(TestFiles.Mp4Payload(20_000)) { Headers = { ContentType = new("application/offset+octet-stream") } },
        };
        Assert.Equal(HttpStatusCode.NoContent, (await alice.SendAsync(patch, Cancellation)).StatusCode);
        var tusVideo = (await alice.GetFromJsonAsync<JsonElement>(created.Headers.Location, Cancellation)).GetProperty("videoId").GetGuid();
        foreach (var id in (Guid[])[formVideo, tusVideo])
        {
            var name = (await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}", Cancellation)).GetProperty("originalFileName").GetString()!;
            Assert.DoesNotContain('/', name);
            Assert.DoesNotContain('\0', name);
            Assert.DoesNotContain("..", name, StringComparison.Ordinal);
            Assert.EndsWith(".mp4", name, StringComparison.Ordinal);
        }
    }
}
