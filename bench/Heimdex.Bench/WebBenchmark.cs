using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Heimdex.Conventions;
using Heimdex.Shared.Data;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Search;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Npgsql;
using StackExchange.Redis;

namespace Heimdex.Bench;

/// <summary>
/// The web app on a library of <paramref name="videoCount"/> videos: how long each page takes, in Debian's Chromium,
/// from navigation until its scripts have run (DOMContentLoaded) and until its content is shown and usable.
/// </summary>
public sealed class WebBenchmark(string dataDirectory, int videoCount, string chromium)
{
    private const int LoadsPerPage = 20;
    private const int ScenesPerVideo = 4;

    public async Task RunAsync()
    {
        var graph = await RunningGraph.LoadAsync(dataDirectory);
        var (userId, key) = await graph.CreateUserAsync("bench-web");
        await using var dataSource = NpgsqlDataSource.Create(graph.ConnectionString(ConnectionNames.Database));
        var database = new DbContextOptionsBuilder<HeimdexDbContext>().UseNpgsql(dataSource).Options;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(graph.ConnectionString(ConnectionNames.Redis));
        var text = new SyntheticText(seed: 11);
        var videos = await WriteLibraryAsync(database, userId, text);
        foreach (var id in videos)
        {
            await SceneChanges.PublishAsync(redis, id);
        }

        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = chromium,
                Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            });
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = graph.Api.ToString(), ViewportSize = new ViewportSize { Width = 1280, Height = 860 } });
            await page.GotoAsync("/");
            await page.GetByLabel("API key").FillAsync(key);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await page.Locator(".card.video").First.WaitForAsync();

            Console.WriteLine($"{Environment.ProcessorCount} cores; a library of {videos.Count} videos ({ScenesPerVideo} scenes each); {LoadsPerPage} cold loads per page");
            Console.WriteLine($"{"page",-22} {"scripts ran p50/p95 ms",24} {"content p50/p95 ms",20}");
            var word = text.SearchWord();
            await MeasureAsync(page, "library, first page", "/#/", ".card.video >> nth=23");
            await MeasureAsync(page, "library, page 30", "/#/?page=30", ".card.video >> nth=23");
            await MeasureAsync(page, "video", $"/#/videos/{videos[videos.Count / 2]}", "#player");
            await MeasureAsync(page, "search", $"/#/search?q={Uri.EscapeDataString(word)}", ".results h2");
            await MeasureAsync(page, "people", "/#/people", "form.inline");
            Console.WriteLine("goal: every page's content shown within 1000 ms");
        }
        finally
        {
            await using var db = new HeimdexDbContext(database);
            await db.Videos.Where(v => v.OwnerId == userId).ExecuteDeleteAsync();
            foreach (var id in videos)
            {
                await SceneChanges.PublishAsync(redis, id);
            }

            await db.Users.Where(u => u.Id == userId).ExecuteDeleteAsync();
        }
    }

    /// <summary>Each load starts from a blank page, so the document, its scripts and its data are fetched and run again.</summary>
    private static async Task MeasureAsync(IPage page, string name, string address, string ready)
    {
        var (interactive, content) = (new List<double>(), new List<double>());
        for (var i = 0; i < LoadsPerPage; i++)
        {
            await page.GotoAsync("about:blank");
            var clock = Stopwatch.StartNew();
            await page.GotoAsync(address, new PageGotoOptions { WaitUntil = WaitUntilState.Commit });
            await page.Locator(ready).First.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
            content.Add(clock.Elapsed.TotalMilliseconds);
            interactive.Add(await page.EvaluateAsync<double>("() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"));
        }

        Console.WriteLine($"{name,-22} {$"{Latency.Percentile(interactive, 50):0} / {Latency.Percentile(interactive, 95):0}",24} " +
                          $"{$"{Latency.Percentile(content, 50):0} / {Latency.Percentile(content, 95):0}",20}");
    }

    /// <summary>Videos as the pipeline leaves them: most indexed, some midway (so the library polls), a few failed.</summary>
    private async Task<List<Guid>> WriteLibraryAsync(DbContextOptions<HeimdexDbContext> database, Guid owner, SyntheticText text)
    {
        var stages = typeof(IPipelineStage).Assembly.GetTypes()
            .Where(type => type.IsClass && !type.IsAbstract && typeof(IPipelineStage).IsAssignableFrom(type))
            .Select(type => (string)type.GetProperty(nameof(IPipelineStage.StageName))!.GetValue(null)!)
            .ToList();
        await using var db = new HeimdexDbContext(database);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var ids = new List<Guid>();
        for (var v = 0; v < videoCount; v++)
        {
            var (state, reached) = (v % 50) switch
            {
                0 => (VideoState.Failed, stages.Count / 2),
                < 5 => (VideoState.Processing, stages.Count / 3),
                _ => (VideoState.Indexed, stages.Count),
            };
            var video = new Video
            {
                OwnerId = owner,
                Title = text.Sentence(4),
                Description = text.Sentence(12),
                OriginalFileName = "synthetic.mp4",
                ContentType = "video/mp4",
                DurationSeconds = ScenesPerVideo * 5,
            };
            video.Stages.AddRange(stages.Select((stage, position) => new StageRun { VideoId = video.Id, Stage = stage, Position = position }));
            var now = DateTimeOffset.UtcNow;
            foreach (var run in video.Stages.Take(reached + 1))
            {
                video.StartStage(run, "synthetic", now);
                if (run.Position < reached || state == VideoState.Indexed)
                {
                    video.FinishStage(run, null, [], now);
                }
                else if (state == VideoState.Failed)
                {
                    video.FailStage(run, "synthetic failure", now);
                }
            }

            db.Videos.Add(video);
            ids.Add(video.Id);
            for (var i = 0; i < ScenesPerVideo; i++)
            {
                db.Scenes.Add(new Scene { VideoId = video.Id, OwnerId = video.OwnerId, Index = i, StartSeconds = i * 5, EndSeconds = i * 5 + 5, SearchText = text.Sentence(40) });
            }
        }

        await db.SaveChangesAsync();
        await SceneDocuments.UpdateAsync(db, [.. ids], CancellationToken.None);
        return ids;
    }
}
