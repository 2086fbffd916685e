using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Heimdex.Bench;

/// <summary>
/// The API under sustained load: <c>uploads</c> clients each uploading one file after another through
/// <c>POST /api/videos</c>, while searches arrive at a fixed rate whether or not earlier ones have been answered. Each
/// upload is 4 MiB behind an MP4's first bytes: the API does all its work for it, the worker refuses it at validation
/// in a moment, so the worker's backlog stays small. Reports errors, latency percentiles and the API's memory over time.
/// </summary>
public sealed class LoadBenchmark(string dataDirectory, TimeSpan duration, int uploaders, int searchesPerSecond)
{
    private static readonly string[] Queries = ["country", "ask not", "what you can do", "slide", "lecture", "the moon", "freedom", "aqueduct", "orbit", "water"];

    public async Task RunAsync()
    {
        var graph = await RunningGraph.LoadAsync(dataDirectory);
        var (_, key) = await graph.CreateUserAsync("bench-load");
        using var client = graph.Client(key);
        var file = new byte[4 * 1024 * 1024];
        new Random(7).NextBytes(file);
        "\0\0\0\u0018ftypmp42\0\0\0\0mp42isom"u8.CopyTo(file);

        var uploads = new ConcurrentBag<double>();
        var searches = new ConcurrentBag<double>();
        var errors = new ConcurrentDictionary<string, int>();
        var memory = new List<(double Seconds, double MiB)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(duration);

        async Task TimedAsync(ConcurrentBag<double> samples, string what, Func<Task<HttpResponseMessage>> send)
        {
            var started = clock.Elapsed;
            try
            {
                using var response = await send();
                if (response.IsSuccessStatusCode)
                {
                    samples.Add((clock.Elapsed - started).TotalMilliseconds);
                    return;
                }

                errors.AddOrUpdate($"{what} {(int)response.StatusCode}", 1, (_, n) => n + 1);
            }
            catch (HttpRequestException error)
            {
                errors.AddOrUpdate($"{what} {error.HttpRequestError}", 1, (_, n) => n + 1);
            }
        }

        var uploading = Enumerable.Range(0, uploaders).Select(async uploader =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                using var form = new MultipartFormDataContent { { new ByteArrayContent(file), "file", $"load-{uploader}-{i}.mp4" } };
                await TimedAsync(uploads, "upload", () => client.PostAsync("/api/videos", form));
            }
        }).ToList();

        var searching = new List<Task>();
        var sampling = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                lock (memory)
                {
                    memory.Add((clock.Elapsed.TotalSeconds, graph.ApiResidentMiB()));
                }

                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        });
        var interval = TimeSpan.FromSeconds(1.0 / searchesPerSecond);
        for (var next = TimeSpan.Zero; !stop.IsCancellationRequested; next += interval)
        {
            if (next > clock.Elapsed)
            {
                await Task.Delay(next - clock.Elapsed);
            }

            var query = Uri.EscapeDataString(Queries[searching.Count % Queries.Length]);
            searching.Add(TimedAsync(searches, "search", () => client.GetAsync($"/api/search?q={query}")));
        }

        await Task.WhenAll([.. uploading, .. searching, sampling]);
        var seconds = clock.Elapsed.TotalSeconds;

        Console.WriteLine($"{Environment.ProcessorCount} cores; {duration.TotalSeconds:0} s: {uploaders} clients uploading 4 MiB files one after another, " +
                          $"searches sent at {searchesPerSecond}/s");
        Console.WriteLine($"{"requests",-10} {"answered",9} {"per s",7} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8}");
        Report("uploads", uploads, seconds);
        Report("searches", searches, seconds);
        Console.WriteLine($"upload throughput {uploads.Count * 4.0 / seconds:0.0} MiB/s");
        Console.WriteLine(errors.IsEmpty ? "errors: none" : $"errors: {string.Join(", ", errors.OrderBy(e => e.Key).Select(e => $"{e.Key} ×{e.Value}"))}");
        var third = memory.Count / 3;
        Console.WriteLine($"API resident memory: start {memory[0].MiB:0} MiB, after the first third {memory[third].MiB:0} MiB, " +
                          $"peak {memory.Max(m => m.MiB):0} MiB, end {memory[^1].MiB:0} MiB");
        Console.WriteLine("goal: no errors, API memory flat after warm-up (end within 10 % of the first third)");
    }

    private static void Report(string what, ConcurrentBag<double> samples, double seconds)
    {
        var list = samples.ToList();
        Console.WriteLine(list.Count == 0
            ? $"{what,-10} {0,9}"
            : $"{what,-10} {list.Count,9} {list.Count / seconds,7:0.0} {Latency.Percentile(list, 50),8:0} {Latency.Percentile(list, 95),8:0} {Latency.Percentile(list, 99),8:0}");
    }
}
