using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Heimdex.Tests.Uploads;

namespace Heimdex.Tests.Users;

/// <summary>Keys are required everywhere under /api, administrators alone manage users, and users never see each other's data.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class AuthorizationTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static readonly Guid AnyId = Guid.NewGuid();

    public static TheoryData<string, string> Routes => new()
    {
        { "GET", "/api/videos" },
        { "POST", "/api/videos" },
        { "GET", $"/api/videos/{AnyId}" },
        { "DELETE", $"/api/videos/{AnyId}" },
        { "GET", $"/api/videos/{AnyId}/stream" },
        { "POST", "/api/uploads" },
        { "HEAD", $"/api/uploads/{AnyId}" },
        { "PATCH", $"/api/uploads/{AnyId}" },
        { "DELETE", $"/api/uploads/{AnyId}" },
        { "GET", $"/api/uploads/{AnyId}" },
        { "POST", "/api/users" },
        { "POST", "/api/keys" },
        { "GET", "/api/keys" },
        { "DELETE", $"/api/keys/{AnyId}" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Every_route_refuses_a_missing_a_malformed_and_a_wrong_key(string method, string path)
    {
        foreach (var key in new[] { null, "not-a-key", "hx_0123456789ab_" + new string('0', 64), graph.AliceKey[..^4] + "beef" })
        {
            using var client = graph.Client(key);
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Headers = { { "Tus-Resumable", "1.0.0" } } };
            using var response = await client.SendAsync(request, Cancellation);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with key '{key}' answered {response.StatusCode}");
            Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        }

        // A valid key as a Basic password is for the Hangfire dashboard's browser login only, not for the API.
        using var http = new HttpClient { BaseAddress = graph.Api };
        using var basic = await SendWithBasicAsync(http, new Uri(graph.Api, path), graph.AliceKey, new HttpMethod(method));
        Assert.Equal(HttpStatusCode.Unauthorized, basic.StatusCode);
    }

    [Fact]
    public async Task Another_users_video_and_upload_are_not_found_and_never_listed()
    {
        using var alice = graph.Client(graph.AliceKey);
        using var bob = graph.Client(graph.BobKey);
        var videoId = await VideoUploadTests.UploadAsync(alice, TestFiles.Mp4Payload(50_000), "private.mp4");
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/uploads") { Headers = { { "Tus-Resumable", "1.0.0" }, { "Upload-Length", "5000" } } };
        var uploadPath = (await alice.SendAsync(create, Cancellation)).Headers.Location!.OriginalString;

        foreach (var (method, path) in new[]
                 {
                     ("GET", $"/api/videos/{videoId}"), ("GET", $"/api/videos/{videoId}/stream"), ("DELETE", $"/api/videos/{videoId}"),
                     ("HEAD", uploadPath), ("GET", uploadPath), ("PATCH", uploadPath), ("DELETE", uploadPath),
                 })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path)
            {
                Headers = { { "Tus-Resumable", "1.0.0" }, { "Upload-Offset", "0" } },
                Content = method == "PATCH" ? new ByteArrayContent(new byte[10]) { Headers = { ContentType = new("application/offset+octet-stream") } } : null,
            };
            using var response = await bob.SendAsync(request, Cancellation);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"bob's {method} {path} answered {response.StatusCode}");
        }

        var bobsVideos = await bob.GetFromJsonAsync<JsonElement>("/api/videos", Cancellation);
        Assert.DoesNotContain(bobsVideos.GetProperty("items").EnumerateArray(), v => v.GetProperty("id").GetGuid() == videoId);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/api/videos/{videoId}", Cancellation)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync(uploadPath, Cancellation)).StatusCode);
    }

    [Fact]
    public async Task Only_administrators_create_users_and_keys_and_a_new_key_works_at_once()
    {
        using var alice = graph.Client(graph.AliceKey);
        using var admin = graph.Client(graph.AdminKey);

        Assert.Equal(HttpStatusCode.Forbidden, (await alice.PostAsJsonAsync("/api/users", new { name = "mallory" }, Cancellation)).StatusCode);
        using var created = await admin.PostAsJsonAsync("/api/users", new { name = "carol" }, Cancellation);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var carol = (await created.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("user").GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.PostAsJsonAsync("/api/keys", new { userId = carol, name = "stolen" }, Cancellation)).StatusCode);
        using var key = await admin.PostAsJsonAsync("/api/keys", new { userId = carol, name = "laptop" }, Cancellation);
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/users", new { name = " " }, Cancellation)).StatusCode);

        using var asCarol = graph.Client((await key.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("key").GetString());
        var videos = await asCarol.GetFromJsonAsync<JsonElement>("/api/videos", Cancellation);
        Assert.Equal(0, videos.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Keys_are_listed_without_secrets_and_a_revoked_key_stops_working_at_once()
    {
        using var admin = graph.Client(graph.AdminKey);
        using var alice = graph.Client(graph.AliceKey);
        using var created = await admin.PostAsJsonAsync("/api/users", new { name = $"dave-{Guid.NewGuid():N}" }, Cancellation);
        var dave = (await created.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("user").GetProperty("id").GetGuid();
        using var laptopCreated = await admin.PostAsJsonAsync("/api/keys", new { userId = dave, name = "laptop" }, Cancellation);
        var laptop = await laptopCreated.Content.ReadFromJsonAsync<JsonElement>(Cancellation);
        using var asLaptop = graph.Client(laptop.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, (await asLaptop.GetAsync("/api/videos", Cancellation)).StatusCode);

        using var listing = await admin.GetAsync($"/api/keys?userId={dave}", Cancellation);
        var keys = (await listing.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).EnumerateArray().ToList();
        Assert.Equal(["first key", "laptop"], keys.Select(k => k.GetProperty("name").GetString()));
        Assert.DoesNotContain(laptop.GetProperty("key").GetString()![^20..], await listing.Content.ReadAsStringAsync(Cancellation));
        Assert.All(keys, k => Assert.False(k.TryGetProperty("key", out _)));
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.GetAsync("/api/keys", Cancellation)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.DeleteAsync($"/api/keys/{laptop.GetProperty("id").GetGuid()}", Cancellation)).StatusCode);

        using var revoked = await admin.DeleteAsync($"/api/keys/{laptop.GetProperty("id").GetGuid()}", Cancellation);

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await asLaptop.GetAsync("/api/videos", Cancellation)).StatusCode);
        var after = await admin.GetFromJsonAsync<JsonElement>($"/api/keys?userId={dave}", Cancellation);
        Assert.Equal(JsonValueKind.String, after.EnumerateArray().Single(k => k.GetProperty("name").GetString() == "laptop").GetProperty("revokedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, after.EnumerateArray().Single(k => k.GetProperty("name").GetString() == "first key").GetProperty("revokedAt").ValueKind);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/keys/{Guid.NewGuid()}", Cancellation)).StatusCode);
        var adminKey = (await admin.GetFromJsonAsync<JsonElement>("/api/keys", Cancellation)).EnumerateArray()
            .Single(k => graph.AdminKey.Contains($"_{k.GetProperty("prefix").GetString()}_", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"/api/keys/{adminKey.GetProperty("id").GetGuid()}", Cancellation)).StatusCode);
    }

    [Fact]
    public async Task The_hangfire_dashboard_needs_the_administrators_key()
    {
        var dashboard = graph.HangfireDashboard;
        using var http = new HttpClient();

        using var anonymous = await http.GetAsync(dashboard, Cancellation);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains(anonymous.Headers.WwwAuthenticate, challenge => challenge.Scheme == "Basic"); // the browser asks for it

        Assert.Equal(HttpStatusCode.Forbidden, (await SendWithBasicAsync(http, dashboard, graph.AliceKey)).StatusCode);
        using var admin = await SendWithBasicAsync(http, dashboard, graph.AdminKey);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("Heimdex jobs", await admin.Content.ReadAsStringAsync(Cancellation));
    }

    private static Task<HttpResponseMessage> SendWithBasicAsync(HttpClient http, Uri uri, string key, HttpMethod? method = null) =>
        http.SendAsync(new HttpRequestMessage(method ?? HttpMethod.Get, uri)
        {
            Headers =
            {
                { "Tus-Resumable", "1.0.0" },
                { "Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + key)) },
            },
        }, Cancellation);
}
