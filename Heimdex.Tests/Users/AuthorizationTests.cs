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

    /// <summary>The only routes anyone may call without a key: tus discovery and the web app's sign-in.</summary>
    private static readonly string[] Anonymous = ["OPTIONS /api/uploads", "POST /api/session", "GET /api/session", "DELETE /api/session"];

    [Fact]
    [Trait("Category", "Reliability")]
    public async Task Every_route_in_the_openapi_document_refuses_a_missing_a_malformed_and_a_wrong_key()
    {
        var routes = await RoutesAsync();
        Assert.True(routes.Count >= 30, $"only {routes.Count} routes in the document");
        var keyless = new List<string>();
        foreach (var route in routes)
        {
            var path = Fill(route.Path, _ => Guid.NewGuid().ToString());
            foreach (var key in new[] { null, "not-a-key", "hx_0123456789ab_" + new string('0', 64), graph.AliceKey[..^4] + "beef" })
            {
                using var client = graph.Client(key);
                using var response = await client.SendAsync(Request(route.Method, path), Cancellation);
                if (response.StatusCode != HttpStatusCode.Unauthorized)
                {
                    keyless.Add($"{route} with key '{key}' answered {(int)response.StatusCode}");
                    continue;
                }

                Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
            }

            // A valid key as a Basic password is for the Hangfire dashboard's browser login only, not for the API.
            using var http = new HttpClient { BaseAddress = graph.Api };
            using var basic = await SendWithBasicAsync(http, new Uri(graph.Api, path), graph.AliceKey, new HttpMethod(route.Method));
            if (basic.StatusCode != HttpStatusCode.Unauthorized)
            {
                keyless.Add($"{route} with a Basic password answered {(int)basic.StatusCode}");
            }
        }

        Assert.Equal(Anonymous.Order(), keyless.Select(line => line[..line.IndexOf(" with ", StringComparison.Ordinal)]).Distinct().Order());
    }

    [Fact]
    [Trait("Category", "Reliability")]
    public async Task Every_route_that_names_another_users_things_answers_not_found_and_changes_nothing()
    {
        using var alice = graph.Client(graph.AliceKey);
        using var bob = graph.Client(graph.BobKey);
        var video = await VideoUploadTests.UploadAsync(alice, TestFiles.Mp4Payload(50_000), "private.mp4");
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/uploads") { Headers = { { "Tus-Resumable", "1.0.0" }, { "Upload-Length", "5000" } } };
        var upload = Guid.Parse((await alice.SendAsync(create, Cancellation)).Headers.Location!.OriginalString.Split('/')[^1]);
        using var personCreated = await alice.PostAsJsonAsync("/api/people", new { name = "Alice's friend" }, Cancellation);
        var person = (await personCreated.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("id").GetGuid();
        using var photoForm = new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(TestFiles.SharedMedia("faces", "biden_1.jpg"), Cancellation)), "file", "friend.jpg" } };
        using var photoAdded = await alice.PostAsync($"/api/people/{person}/photos", photoForm, Cancellation);
        var photo = (await photoAdded.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("id").GetGuid();
        using var admin = graph.Client(graph.AdminKey);
        var aliceKey = (await admin.GetFromJsonAsync<JsonElement>("/api/keys", Cancellation)).EnumerateArray()
            .First(k => graph.AliceKey.Contains($"_{k.GetProperty("prefix").GetString()}_", StringComparison.Ordinal)).GetProperty("id").GetGuid();

        // Alice's thing for each route parameter; a new route whose parameters are not here fails until it is added.
        string AlicesThing(Route route, string parameter) => (route.Path.Split('/')[2], parameter) switch
        {
            ("videos", "id") => $"{video}",
            ("videos", "index") => "0",
            ("videos", "image") => "thumbnail",
            ("uploads", "id") => $"{upload}",
            ("people", "id") => $"{person}",
            ("people", "photoId") => $"{photo}",
            ("keys", "id") => $"{aliceKey}",
            _ => throw new InvalidOperationException($"{route}: which of Alice's things is {{{parameter}}}? Add it to this test."),
        };

        var named = (await RoutesAsync()).Where(r => r.Path.Contains('{')).ToList();
        Assert.True(named.Count >= 20, $"only {named.Count} routes with parameters");
        var answers = new List<string>();
        foreach (var route in named)
        {
            using var response = await bob.SendAsync(Request(route.Method, Fill(route.Path, parameter => AlicesThing(route, parameter))), Cancellation);
            var expected = route.Path.StartsWith("/api/keys", StringComparison.Ordinal) ? HttpStatusCode.Forbidden : HttpStatusCode.NotFound;
            if (response.StatusCode != expected)
            {
                answers.Add($"bob's {route} answered {(int)response.StatusCode}, not {(int)expected}");
            }
        }

        Assert.Empty(answers);
        var bobsVideos = await bob.GetFromJsonAsync<JsonElement>("/api/videos", Cancellation);
        Assert.DoesNotContain(bobsVideos.GetProperty("items").EnumerateArray(), v => v.GetProperty("id").GetGuid() == video);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/api/videos/{video}", Cancellation)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/api/uploads/{upload}", Cancellation)).StatusCode);
        var friend = await alice.GetFromJsonAsync<JsonElement>($"/api/people/{person}", Cancellation);
        Assert.Equal("Alice's friend", friend.GetProperty("name").GetString());
        Assert.Contains(friend.GetProperty("photos").EnumerateArray(), p => p.GetProperty("id").GetGuid() == photo);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/api/videos", Cancellation)).StatusCode); // her key still works
    }

    private sealed record Route(string Method, string Path)
    {
        public override string ToString() => $"{Method} {Path}";
    }

    /// <summary>Every operation of the API's OpenAPI document.</summary>
    private async Task<List<Route>> RoutesAsync()
    {
        using var anonymous = graph.Client(null);
        var document = await anonymous.GetFromJsonAsync<JsonElement>(Heimdex.Conventions.ServiceEndpoints.OpenApiDocument, Cancellation);
        return [.. document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Where(op => op.Name != "parameters").Select(op => new Route(op.Name.ToUpperInvariant(), path.Name)))];
    }

    private static string Fill(string path, Func<string, string> value) =>
        System.Text.RegularExpressions.Regex.Replace(path, "{([^}]+)}", match => value(match.Groups[1].Value));

    /// <summary>A request in the form the route expects (tus headers, a body of its kind), so only who asks decides the answer.</summary>
    private static HttpRequestMessage Request(string method, string path) => new(new HttpMethod(method), path)
    {
        Headers = { { "Tus-Resumable", "1.0.0" }, { "Upload-Offset", "0" } },
        Content = method switch
        {
            "PATCH" when path.StartsWith("/api/uploads", StringComparison.Ordinal) =>
                new ByteArrayContent(new byte[10]) { Headers = { ContentType = new("application/offset+octet-stream") } },
            "POST" when path.EndsWith("/photos", StringComparison.Ordinal) || path.EndsWith("/image", StringComparison.Ordinal) || path == "/api/videos" =>
                new MultipartFormDataContent { { new ByteArrayContent(new byte[64]), "file", "file.jpg" } },
            "POST" or "PATCH" => JsonContent.Create(new { name = "mallory" }),
            _ => null,
        },
    };

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
