using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Heimdex.Tests.Web;

/// <summary>
/// The web app's sign-in over plain HTTP: the key kept in an HttpOnly, SameSite=Strict session cookie that works only
/// while the key does, and never changes data without the page's own header.
/// </summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class SessionTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private const string PageHeader = "X-Requested-With";

    [Fact]
    public async Task A_session_cookie_signs_a_browser_in_until_it_signs_out_or_the_key_is_revoked_and_never_changes_data_without_the_page_header()
    {
        var key = await graph.CreateUserAsync($"session-{Guid.NewGuid():N}");
        using var anonymous = graph.Client(null);

        foreach (var wrong in new[] { "not-a-key", key[..^4] + "beef" })
        {
            using var refused = await anonymous.PostAsJsonAsync("/api/session", new { apiKey = wrong }, Cancellation);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.False(refused.Headers.Contains("Set-Cookie"));
        }

        using (var missing = await anonymous.PostAsJsonAsync("/api/session", new { apiKey = "" }, Cancellation))
        {
            Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        }

        Assert.False((await anonymous.GetFromJsonAsync<JsonElement>("/api/session", Cancellation)).GetProperty("signedIn").GetBoolean());

        using var signIn = await anonymous.PostAsJsonAsync("/api/session", new { apiKey = key }, Cancellation);
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var who = await signIn.Content.ReadFromJsonAsync<JsonElement>(Cancellation);
        Assert.True(who.GetProperty("signedIn").GetBoolean());
        Assert.StartsWith("session-", who.GetProperty("name").GetString());
        var setCookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"));
        var attributes = setCookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=strict", attributes);
        Assert.Contains("path=/", attributes);
        Assert.DoesNotContain(attributes, a => a.StartsWith("expires=", StringComparison.Ordinal) || a.StartsWith("max-age=", StringComparison.Ordinal));
        var cookie = setCookie.Split(';')[0];

        // Reads work with the cookie alone (an <img> or <video> cannot send headers).
        using var browser = new HttpClient { BaseAddress = graph.Api };
        browser.DefaultRequestHeaders.Add("Cookie", cookie);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/videos", Cancellation)).StatusCode);
        Assert.True((await browser.GetFromJsonAsync<JsonElement>("/api/session", Cancellation)).GetProperty("signedIn").GetBoolean());

        // Changes need the page's header too: another site's form could send the cookie, never the header.
        using (var forged = await browser.PostAsJsonAsync("/api/people", new { name = "Forged" }, Cancellation))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        using (var fromPage = new HttpRequestMessage(HttpMethod.Post, "/api/people") { Content = JsonContent.Create(new { name = "From the page" }) })
        {
            fromPage.Headers.Add(PageHeader, "heimdex");
            using var created = await browser.SendAsync(fromPage, Cancellation);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using (var people = new HttpClient { BaseAddress = graph.Api })
        {
            people.DefaultRequestHeaders.Add("Cookie", cookie.Replace("=hx_", "=hx_0", StringComparison.Ordinal));
            Assert.Equal(HttpStatusCode.Unauthorized, (await people.GetAsync("/api/videos", Cancellation)).StatusCode);
        }

        // Signing out removes the cookie.
        using (var signOut = new HttpRequestMessage(HttpMethod.Delete, "/api/session"))
        {
            signOut.Headers.Add(PageHeader, "heimdex");
            using var signedOut = await browser.SendAsync(signOut, Cancellation);
            Assert.Equal(HttpStatusCode.NoContent, signedOut.StatusCode);
            var removal = Assert.Single(signedOut.Headers.GetValues("Set-Cookie"));
            Assert.StartsWith("heimdex_session=;", removal);
            Assert.Contains("expires=Thu, 01 Jan 1970", removal, StringComparison.OrdinalIgnoreCase);
        }

        // A cookie is only as good as its key: revoked, the session ends.
        using var admin = graph.Client(graph.AdminKey);
        var userId = who.GetProperty("userId").GetGuid();
        var keyId = (await admin.GetFromJsonAsync<JsonElement>($"/api/keys?userId={userId}", Cancellation)).EnumerateArray().Single().GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/keys/{keyId}", Cancellation)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/videos", Cancellation)).StatusCode);
        Assert.False((await browser.GetFromJsonAsync<JsonElement>("/api/session", Cancellation)).GetProperty("signedIn").GetBoolean());
    }

    [Fact]
    public async Task The_pages_and_the_upload_client_are_served_to_anyone_with_a_policy_that_runs_only_their_own_scripts()
    {
        using var anonymous = graph.Client(null);
        using var page = await anonymous.GetAsync("/", Cancellation);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(" ", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        var html = await page.Content.ReadAsStringAsync(Cancellation);
        Assert.Contains("/vendor/tus.min.js", html);

        using var tus = await anonymous.GetAsync("/vendor/tus.min.js", Cancellation);
        Assert.Equal(HttpStatusCode.OK, tus.StatusCode);
        Assert.Equal("text/javascript", tus.Content.Headers.ContentType?.MediaType);
        Assert.Contains("tus", await tus.Content.ReadAsStringAsync(Cancellation));

        // The API itself still wants a key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/videos", Cancellation)).StatusCode);
    }
}
