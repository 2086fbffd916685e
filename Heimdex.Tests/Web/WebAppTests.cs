using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Heimdex.Tests.Pipeline;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Heimdex.Tests.Web;

/// <summary>The web app in a real browser against the real graph: what a person does, start to end.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed partial class WebAppTests(HeimdexGraph graph)
{
    private static readonly LocatorAssertionsToHaveAttributeOptions Indexing = new() { Timeout = 300_000 };

    [Fact]
    public async Task A_person_signs_in_names_someone_uploads_watches_it_index_searches_a_spoken_word_and_plays_that_scene()
    {
        var key = await graph.CreateUserAsync($"web-{Guid.NewGuid():N}");
        var talk = await MediaFactory.SlideThenPhotoAsync("Heimdex in a browser", TestFiles.SharedMedia("faces", "obama_1.jpg"),
            TestFiles.SharedMedia("audio", "jfk.wav"), 11);
        var noFace = await MediaFactory.TextImageAsync("No face here");
        await using var browser = await Browser.LaunchAsync(graph.Api);
        var page = browser.Page;

        // Sign in: the key lives in an HttpOnly session cookie, never in the address or in storage a script can read.
        await page.GotoAsync("/");
        await browser.ScreenshotAsync("sign-in");
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Library" })).ToBeVisibleAsync();
        var session = (await browser.Context.CookiesAsync()).Single(cookie => cookie.Name == "heimdex_session");
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, session.SameSite);
        Assert.Equal(-1, session.Expires); // gone with the browser session
        Assert.DoesNotContain(key, page.Url);
        Assert.DoesNotContain(key, await page.EvaluateAsync<string>("() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie"));

        // People: a photo that serves and one that fails, with its reason shown.
        await Navigate(page, "People");
        await page.GetByLabel("New person").FillAsync("Barack Obama");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Barack Obama", Level = 1 })).ToBeVisibleAsync();
        await page.Locator("#photo").SetInputFilesAsync([TestFiles.SharedMedia("faces", "obama_2.jpg"), noFace]);
        await Expect(page.Locator(".photo[data-state=ready]")).ToHaveCountAsync(1, new() { Timeout = 120_000 });
        await Expect(page.Locator(".photo[data-state=failed] .error")).ToHaveTextAsync("no face was found in the photo", new() { Timeout = 120_000 });
        await AssertAccessibleAsync(page);
        await browser.ScreenshotAsync("person-photos");

        // Upload through tus with a title and description.
        await Navigate(page, "Upload");
        await page.Locator("#files").SetInputFilesAsync(talk);
        await page.GetByLabel("Title").FillAsync("Ask not");
        await page.GetByLabel("Description").FillAsync("A browser upload");
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload all" }).ClickAsync();
        await Expect(page.Locator(".upload .status")).ToContainTextAsync("Uploaded", new() { Timeout = 60_000 });
        await AssertAccessibleAsync(page);
        await browser.ScreenshotAsync("upload");

        // The library shows the video's stages live until it is indexed, then its thumbnail.
        await Navigate(page, "Library");
        var card = page.Locator(".card.video", new() { HasText = "Ask not" });
        await Expect(card.Locator(".stages li")).Not.ToHaveCountAsync(0);
        await Expect(card).ToHaveAttributeAsync("data-state", "indexed", Indexing);
        await Expect(card.Locator(".status")).ToHaveTextAsync("Indexed");
        await Expect(card.Locator("img.thumb")).ToBeVisibleAsync();
        Assert.True(await card.Locator("img.thumb").EvaluateAsync<bool>("image => image.complete && image.naturalWidth > 0"));
        var videoId = Guid.Parse((await card.GetAttributeAsync("data-video-id"))!);
        using (var api = graph.Client(key))
        {
            var stored = await api.GetFromJsonAsync<JsonElement>($"/api/videos/{videoId}", TestContext.Current.CancellationToken);
            Assert.Equal("Ask not", stored.GetProperty("title").GetString());
            Assert.Equal("A browser upload", stored.GetProperty("description").GetString());
            await Expect(card.Locator(".stages li")).ToHaveCountAsync(stored.GetProperty("stages").GetArrayLength());
        }

        await AssertAccessibleAsync(page);
        await browser.ScreenshotAsync("library");

        // Search a spoken word: the hit marks it, says why it matched, and plays exactly its scene.
        await Navigate(page, "Search");
        await page.GetByLabel("Search", new() { Exact = true }).FillAsync("country");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        ILocator hit = page.Locator(".hit").First;
        await Expect(hit.Locator("mark").First).ToHaveTextAsync(new Regex("country", RegexOptions.IgnoreCase));
        await Expect(hit.Locator(".why")).ToContainTextAsync("words");
        await AssertAccessibleAsync(page);
        await browser.ScreenshotAsync("search");

        // Dropping a photo of the person finds the scene they are in, by their face.
        await page.Locator("#image").SetInputFilesAsync(TestFiles.SharedMedia("faces", "obama_3.jpg"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Scenes like obama_3.jpg (1 face searched)" })).ToBeVisibleAsync();
        await Expect(page.Locator(".hit").First.Locator(".why")).ToContainTextAsync("face");
        await Expect(page.Locator(".hit").First.Locator("h3 a")).ToHaveTextAsync("Ask not");

        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        hit = page.Locator(".hit").First;
        await Expect(hit.Locator("mark").First).ToBeVisibleAsync();
        var play = (await hit.Locator("h3 a").GetAttributeAsync("href"))!;
        var segment = PlayLink().Match(play);
        Assert.True(segment.Success, play);
        Assert.Equal(videoId, Guid.Parse(segment.Groups["video"].Value));
        var (start, end) = (double.Parse(segment.Groups["start"].Value, CultureInfo.InvariantCulture), double.Parse(segment.Groups["end"].Value, CultureInfo.InvariantCulture));
        await hit.Locator("h3 a").ClickAsync();

        // The player starts at the scene and stops at its end.
        await page.WaitForFunctionAsync("start => { const v = document.getElementById('player'); return v && v.readyState >= 2 && !v.paused && v.currentTime >= start; }", start);
        var playingAt = await page.EvaluateAsync<double>("() => document.getElementById('player').currentTime");
        Assert.InRange(playingAt, start, end);
        await page.WaitForFunctionAsync("end => { const v = document.getElementById('player'); return v.paused && v.currentTime >= end - 0.3; }", end,
            new() { Timeout = (float)((end - start + 20) * 1000) });
        Assert.InRange(await page.EvaluateAsync<double>("() => document.getElementById('player').currentTime"), end - 0.3, end + 0.75);

        // The video page: subtitles, transcript (click to seek), scenes, on-screen text and the people seen.
        await Expect(page.Locator("track[kind=subtitles]")).ToHaveAttributeAsync("src", $"/api/videos/{videoId}/subtitles.vtt");
        var line = page.Locator(".transcript .line", new() { HasText = "country" }).First;
        await Expect(line).ToBeVisibleAsync();
        await page.Locator(".strip .scene").Last.ClickAsync();
        await Expect(page.Locator(".transcript .line[aria-current]")).ToHaveCountAsync(1);
        await Expect(page.Locator("section", new() { HasText = "On-screen text" })).ToContainTextAsync("Heimdex in a browser");
        await Expect(page.Locator("section", new() { HasText = "People seen" }).GetByRole(AriaRole.Link, new() { Name = "Barack Obama" })).ToBeVisibleAsync();
        await AssertAccessibleAsync(page);
        await browser.ScreenshotAsync("video");

        // The person's appearances, as a timeline per video; a mark plays that stretch.
        await page.Locator("section", new() { HasText = "People seen" }).GetByRole(AriaRole.Link, new() { Name = "Barack Obama" }).ClickAsync();
        var timeline = page.Locator(".appearances .card", new() { HasText = "Ask not" });
        await Expect(timeline.Locator(".timeline a")).Not.ToHaveCountAsync(0);
        await browser.ScreenshotAsync("person");

        // A phone's width: nothing wider than the screen.
        await page.SetViewportSizeAsync(390, 844);
        await Navigate(page, "Library");
        await Expect(card).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        await browser.ScreenshotAsync("library-phone");

        Assert.Empty(browser.Problems);
    }

    [Fact]
    public async Task An_interrupted_upload_resumes_after_a_reload_and_a_failed_video_shows_its_stage_reason_and_retries()
    {
        var key = await graph.CreateUserAsync($"web-resume-{Guid.NewGuid():N}");
        var file = Path.Combine(Path.GetTempPath(), $"not-a-video-{Guid.NewGuid():N}.mp4");
        var bytes = TestFiles.NotAVideo(20_000_000);
        await File.WriteAllBytesAsync(file, bytes, TestContext.Current.CancellationToken);
        await using var browser = await Browser.LaunchAsync(graph.Api);
        var page = browser.Page;
        await page.GotoAsync("/");
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Navigate(page, "Upload");

        // The first chunk arrives; then the connection drops for good.
        var patches = new List<long>();
        await page.RouteAsync("**/api/uploads/*", async route =>
        {
            if (route.Request.Method == "PATCH")
            {
                var offset = long.Parse(route.Request.Headers["upload-offset"], CultureInfo.InvariantCulture);
                patches.Add(offset);
                if (offset > 0)
                {
                    await route.AbortAsync("connectionreset");
                    return;
                }
            }

            await route.ContinueAsync();
        });
        await page.Locator("#files").SetInputFilesAsync(file);
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();
        await Expect(page.Locator(".upload .status")).ToContainTextAsync("Upload failed", new() { Timeout = 60_000 });

        // After a reload the page lists the unfinished upload; choosing the same file resumes it where it stopped.
        await page.UnrouteAllAsync(new() { Behavior = UnrouteBehavior.IgnoreErrors });
        patches.Clear();
        await page.RouteAsync("**/api/uploads/*", async route =>
        {
            if (route.Request.Method == "PATCH")
            {
                patches.Add(long.Parse(route.Request.Headers["upload-offset"], CultureInfo.InvariantCulture));
            }

            await route.ContinueAsync();
        });
        await page.ReloadAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Unfinished uploads" })).ToBeVisibleAsync();
        await page.Locator("#files").SetInputFilesAsync(file);
        await Expect(page.Locator(".upload .status")).ToContainTextAsync("resumes the upload started");
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();
        await Expect(page.Locator(".upload .status")).ToContainTextAsync("Uploaded", new() { Timeout = 60_000 });
        Assert.True(patches.Count > 0 && patches[0] > 0, $"the resumed upload started at offset {string.Join(", ", patches)}");

        // Validation fails it: the library names the stage and the reason, and Retry reprocesses from that stage.
        await Navigate(page, "Library");
        var card = page.Locator(".card.video").First;
        await Expect(card).ToHaveAttributeAsync("data-state", "failed", Indexing);
        await Expect(card.Locator(".status")).ToContainTextAsync("Failed at validate: ");
        await browser.ScreenshotAsync("library-failed");
        var videoId = Guid.Parse((await card.GetAttributeAsync("data-video-id"))!);
        using var api = graph.Client(key);
        var before = await api.GetFromJsonAsync<JsonElement>($"/api/videos/{videoId}", TestContext.Current.CancellationToken);
        Assert.Equal(bytes.Length, before.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(TestFiles.Sha256(bytes), TestFiles.Sha256(await api.GetByteArrayAsync($"/api/videos/{videoId}/stream", TestContext.Current.CancellationToken)));
        await card.GetByRole(AriaRole.Button, new() { Name = "Retry from validate" }).ClickAsync();
        var firstRun = before.GetProperty("stages")[0].GetProperty("startedAt").GetDateTimeOffset();
        await Eventually.PollAsync(() => api.GetFromJsonAsync<JsonElement>($"/api/videos/{videoId}", TestContext.Current.CancellationToken),
            after => after.GetProperty("stages")[0].GetProperty("startedAt") is { ValueKind: JsonValueKind.String } started && started.GetDateTimeOffset() > firstRun,
            "validate run again after Retry", 60);

        // Delete asks first; confirmed, the video is gone.
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await card.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(page.Locator($".card.video[data-video-id='{videoId}']")).ToHaveCountAsync(0);
        // The connection resets were the test's own doing; the page itself must not have failed.
        Assert.DoesNotContain(browser.Problems, problem => problem.StartsWith("page error", StringComparison.Ordinal));
    }

    private static async Task Navigate(IPage page, string name) =>
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync();

    /// <summary>Every control has a name a screen reader can say, and every image an alternative text (hidden duplicates aside).</summary>
    private static async Task AssertAccessibleAsync(IPage page)
    {
        var unnamed = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('input, select, textarea, button, a[href], img')]
              .filter(e => !e.closest('[aria-hidden=true]'))
              .filter(e => e.tagName === 'IMG' ? !e.hasAttribute('alt') : !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim()))
              .map(e => e.outerHTML.slice(0, 120))
            """);
        Assert.Empty(unnamed);
    }

    [GeneratedRegex(@"^#/videos/(?<video>[0-9a-f-]{36})\?t=(?<start>[0-9.]+)&end=(?<end>[0-9.]+)$")]
    private static partial Regex PlayLink();
}
