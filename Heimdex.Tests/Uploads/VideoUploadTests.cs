using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Heimdex.Shared.Storage;

namespace Heimdex.Tests.Uploads;

/// <summary><c>POST /api/videos</c> against the real graph.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class VideoUploadTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public static MultipartFormDataContent Form(byte[] file, string fileName, string? title = null, string contentType = "video/mp4")
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(file);
        part.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(part, "file", fileName);
        if (title is not null)
        {
            form.Add(new StringContent(title), "title");
        }

        return form;
    }

    /// <summary>Uploads through the form endpoint and returns the new video's id.</summary>
    public static async Task<Guid> UploadAsync(HttpClient client, byte[] file, string fileName, string? title = null)
    {
        using var response = await client.PostAsync("/api/videos", Form(file, fileName, title), Cancellation);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task A_form_upload_stores_the_exact_bytes_under_the_videos_own_key_and_enqueues_its_pipeline()
    {
        var bytes = await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation);
        using var alice = graph.Client(graph.AliceKey);

        using var response = await alice.PostAsync("/api/videos", Form(bytes, "../../etc/leaf and deer.mp4", "Leaf, deer and a tyre", "text/plain"), Cancellation);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var video = await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation);
        var id = video.GetProperty("id").GetGuid();
        Assert.Equal($"/api/videos/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("uploaded", video.GetProperty("state").GetString());
        Assert.Equal("video/mp4", video.GetProperty("contentType").GetString()); // sniffed; the client said text/plain
        Assert.Equal("leaf and deer.mp4", video.GetProperty("originalFileName").GetString());
        Assert.Equal("Leaf, deer and a tyre", video.GetProperty("title").GetString());
        Assert.Equal(bytes.Length, video.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(TestFiles.Sha256(bytes), video.GetProperty("sha256").GetString());

        using var s3 = graph.Storage.CreateClient();
        Assert.Equal(TestFiles.Sha256(bytes), await TestFiles.StoredSha256Async(s3, graph.Storage.Bucket, StorageKeys.VideoOriginal(id)));
        // Enqueued through the shared contract and carried by Hangfire to the worker, which creates the stage rows.
        var pickedUp = await Pipeline.PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("stages").GetArrayLength() > 0, "picked up by the worker");
        Assert.Equal("validate", pickedUp.GetProperty("stages")[0].GetProperty("stage").GetString());
    }

    public static TheoryData<string, byte[], string, string?, int, string> RejectedForms => new()
    {
        { "empty file", [], "empty.mp4", null, 400, "Empty file" },
        { "text named .mp4", "just some notes, not a video\n"u8.ToArray(), "notes.mp4", null, 415, "Unsupported container" },
        { "too large", TestFiles.Mp4Payload((int)HeimdexGraph.MaxUploadBytes + 1000), "huge.mp4", null, 413, "File too large" },
        // The title comes after the file: refused once the file is stored, which then goes.
        { "title longer than a title may be", TestFiles.Mp4Payload(100_000), "long.mp4", new string('t', 600), 400, "The title is too long" },
        { "title with a NUL", TestFiles.Mp4Payload(100_000), "nul.mp4", "before\0after", 400, "The title has a control character" },
    };

    [Theory]
    [MemberData(nameof(RejectedForms))]
    public async Task A_refused_form_upload_gets_a_problem_and_leaves_nothing_behind(string why, byte[] file, string fileName, string? videoTitle, int status, string title)
    {
        using var alice = graph.Client(graph.AliceKey);
        var before = await graph.StorageSnapshotAsync();
        var videosBefore = await graph.CountRowsAsync("Videos");

        using var response = await alice.PostAsync("/api/videos", Form(file, fileName, videoTitle), Cancellation);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation);
        Assert.Equal(title, problem.GetProperty("title").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()), why);
        Assert.Empty(await graph.LeftBehindSinceAsync(before));
        Assert.Equal(videosBefore, await graph.CountRowsAsync("Videos"));
    }

    [Fact]
    public async Task A_form_without_a_file_or_not_multipart_is_refused()
    {
        using var alice = graph.Client(graph.AliceKey);
        using var noFile = new MultipartFormDataContent { { new StringContent("title only"), "title" } };

        using var missing = await alice.PostAsync("/api/videos", noFile, Cancellation);
        using var raw = await alice.PostAsync("/api/videos", new ByteArrayContent(TestFiles.Mp4Payload(1000)), Cancellation);

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("No file", (await missing.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, raw.StatusCode);
    }
}
