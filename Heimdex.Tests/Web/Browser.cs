using Heimdex.AppHost.Provisioning;
using Microsoft.Playwright;

namespace Heimdex.Tests.Web;

/// <summary>
/// Debian's Chromium driven by Playwright (which cannot download its own browsers here), with every console error,
/// uncaught page error and failed request of the session recorded so a test can require there were none.
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    public static readonly SystemRequirement Chromium = new("chromium", "chromium");

    /// <summary>Screenshots are kept here (under the repository's gitignored <c>artifacts/</c>) for people to look at.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(TestFiles.RepositoryRoot, "artifacts", "screenshots");

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public List<string> Problems { get; } = [];

    /// <summary>What the page said and every response it got, written to the test's diagnostics at the end.</summary>
    private List<string> Log { get; } = [];

    private Browser(IPlaywright playwright, IBrowser browser, IBrowserContext context, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            Log.Add($"console {message.Type}: {message.Text}");
            if (message.Type == "error")
            {
                Problems.Add($"console error: {message.Text}");
            }
        };
        page.PageError += (_, error) => Problems.Add($"page error: {error}");
        page.Response += (_, response) => Log.Add($"{response.Status} {response.Request.Method} {response.Url}");
        page.RequestFailed += (_, request) =>
        {
            // A page that leaves (or a video element that stops reading) aborts requests; that is not a failure.
            if (request.Failure is not "net::ERR_ABORTED")
            {
                Problems.Add($"request failed: {request.Method} {request.Url}: {request.Failure}");
            }
        };
    }

    public static async Task<Browser> LaunchAsync(Uri site)
    {
        await TestTools.EnsureAsync(Chromium);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = SystemPackages.Resolve(Chromium),
            Headless = true,
            // This machine's network is closed: without these, Chromium keeps trying Google's services.
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
            ],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = site.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 860 },
        });
        context.SetDefaultTimeout(30_000);
        return new Browser(playwright, browser, context, await context.NewPageAsync());
    }

    public async Task<string> ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, $"{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.Current.SendDiagnosticMessage($"screenshot: {path}");
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        TestContext.Current.SendDiagnosticMessage($"browser log:\n  {string.Join("\n  ", Log.Concat(Problems))}");
        await Context.DisposeAsync();
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
