using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Heimdex.Shared.Storage;
using Heimdex.Tests.Uploads;

namespace Heimdex.Tests.Videos;

[Collection(HeimdexGraphCollection.Name)]
public sealed class VideosApiTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Videos_are_listed_newest_first_in_pages()
    {
        using var admin = graph.Client(graph.AdminKey);
        using var created = await admin.PostAsJsonAsync("/api/users", new { name = "dave" }, Cancellation);
        using var dave = graph.Client((await created.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("key").GetProperty("key").GetString());
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await VideoUploadTests.UploadAsync(dave, TestFiles.Mp4Payload(10_000 + i), $"clip {i}.mp4", $"clip {i}"));
        }

        var first = await dave.GetFromJsonAsync<JsonElement>("/api/videos?page=1&pageSize=2", Cancellation);
        var third = await dave.GetFromJsonAsync<JsonElement>("/api/videos?page=3&pageSize=2", Cancellation);

        Assert.Equal(5, first.GetProperty("total").GetInt32());
        Assert.Equal([ids[4], ids[3]], first.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("id").GetGuid()));
        Assert.Equal([ids[0]], third.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("id").GetGuid()));
        Assert.Equal(HttpStatusCode.BadRequest, (await dave.GetAsync("/api/videos?pageSize=1000", Cancellation)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await dave.GetAsync("/api/videos?page=2147483647", Cancellation)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await dave.GetAsync("/api/videos?page=0", Cancellation)).StatusCode);
    }

    [Fact]
    public async Task Streaming_answers_ranges_with_exactly_those_bytes()
    {
        var bytes = await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation);
        using var alice = graph.Client(graph.AliceKey);
        var id = await VideoUploadTests.UploadAsync(alice, bytes, "stream me.mp4", "stream me");

        using var whole = await alice.GetAsync($"/api/videos/{id}/stream", Cancellation);
        using var ranged = await alice.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/videos/{id}/stream")
        {
            Headers = { Range = new RangeHeaderValue(1000, 1999) },
        }, Cancellation);
        using var outside = await alice.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/videos/{id}/stream")
        {
            Headers = { Range = new RangeHeaderValue(bytes.Length + 10, null) },
        }, Cancellation);

        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(bytes, await whole.Content.ReadAsByteArrayAsync(Cancellation));
        Assert.Equal("video/mp4", whole.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.PartialContent, ranged.StatusCode);
        Assert.Equal(bytes[1000..2000], await ranged.Content.ReadAsByteArrayAsync(Cancellation));
        Assert.Equal($"bytes 1000-1999/{bytes.Length}", ranged.Content.Headers.ContentRange?.ToString());
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, outside.StatusCode);
    }

    [Fact]
    public async Task Deleting_a_video_removes_its_rows_and_every_stored_object()
    {
        using var alice = graph.Client(graph.AliceKey);
        var id = await VideoUploadTests.UploadAsync(alice, TestFiles.Mp4Payload(20_000), "to delete.mp4", "to delete");
        using var s3 = graph.Storage.CreateClient();
        await s3.PutObjectAsync(new() { BucketName = graph.Storage.Bucket, Key = StorageKeys.VideoPrefix(id) + "thumbnails/0.jpg", ContentBody = "x" }, Cancellation);

        using var deleted = await alice.DeleteAsync($"/api/videos/{id}", Cancellation);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync($"/api/videos/{id}", Cancellation)).StatusCode);
        var stored = await TestFiles.StorageSnapshotAsync(s3, graph.Storage.Bucket);
        Assert.DoesNotContain(stored.Objects, key => key.StartsWith(StorageKeys.VideoPrefix(id), StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_openapi_document_describes_every_route_and_scalar_serves_it()
    {
        using var anonymous = graph.Client(null);
        var document = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Cancellation);
        var operations = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => (Route: $"{op.Name.ToUpperInvariant()} {path.Name}", Operation: op.Value)))
            .ToList();

        foreach (var route in new[] { "POST /api/videos", "GET /api/videos", "GET /api/videos/{id}", "DELETE /api/videos/{id}", "GET /api/videos/{id}/stream",
                     "POST /api/uploads", "HEAD /api/uploads/{id}", "PATCH /api/uploads/{id}", "DELETE /api/uploads/{id}", "GET /api/uploads/{id}",
                     "POST /api/users", "POST /api/keys", "GET /api/keys", "DELETE /api/keys/{id}",
                     "GET /api/videos/{id}/subtitles.srt", "GET /api/videos/{id}/subtitles.vtt", "GET /api/videos/{id}/notes.pdf",
                     "POST /api/session", "GET /api/session", "DELETE /api/session" })
        {
            Assert.Contains(operations, o => o.Route == route);
        }

        Assert.All(operations, o => Assert.False(string.IsNullOrWhiteSpace(o.Operation.GetProperty("summary").GetString()), o.Route));
        var jsonResponses = operations.SelectMany(o => o.Operation.GetProperty("responses").EnumerateObject()
                .Where(r => r.Name.StartsWith('2') && r.Value.TryGetProperty("content", out var content) && content.TryGetProperty("application/json", out _))
                .Select(r => (o.Route, Media: r.Value.GetProperty("content").GetProperty("application/json"))))
            .ToList();
        Assert.True(jsonResponses.Count >= 7, $"only {jsonResponses.Count} JSON responses described");
        Assert.All(jsonResponses, r => Assert.True(r.Media.TryGetProperty("example", out _), $"{r.Route} has no example"));
        Assert.True(document.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("ApiKey", out _));
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/scalar", Cancellation)).StatusCode);
    }
}
