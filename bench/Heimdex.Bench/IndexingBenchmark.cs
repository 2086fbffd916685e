using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Heimdex.Bench;

/// <summary>
/// <c>bench -- indexing</c>: generated talks (<see cref="TalkVideos"/>) of 2 and 10 minutes (or <c>--lengths</c>, in seconds) uploaded through the API,
/// one at a time to an idle worker; wall time from the upload's answer to <c>indexed</c>, each stage's start, end and
/// the wait before it (the audio and picture branches overlap), how long no stage ran at all, the ratio of the talk's
/// length to that time, and the worker's peak resident memory.
/// </summary>
public sealed class IndexingBenchmark(string dataDirectory, string audioDirectory, string photo, IReadOnlyList<double> lengths)
{
    public async Task RunAsync()
    {
        var graph = await RunningGraph.LoadAsync(dataDirectory);
        var (_, key) = await graph.CreateUserAsync("bench-indexing");
        using var client = graph.Client(key);
        var directory = Directory.CreateTempSubdirectory("heimdex-indexing-bench").FullName;
        Console.WriteLine($"{Environment.ProcessorCount} cores; talks of 720p slides with narration; goal: indexed at >= 4x real time");
        foreach (var seconds in lengths)
        {
            var talk = await TalkVideos.MakeAsync(seconds, audioDirectory, photo, directory, CancellationToken.None);
            await using var file = File.OpenRead(talk);
            using var form = new MultipartFormDataContent
            {
                { new StreamContent(file) { Headers = { ContentType = new MediaTypeHeaderValue("video/mp4") } }, "file", Path.GetFileName(talk) },
                { new StringContent($"Generated talk of {seconds:0} s"), "title" },
            };
            var (answered, video) = await PipelineRuns.UploadAndWaitAsync(client, form, TimeSpan.FromMilliseconds(250));
            var indexedAfter = (DateTimeOffset.UtcNow - answered).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"talk of {seconds:0} s ({new FileInfo(talk).Length / 1048576.0:0.0} MiB): {video.GetProperty("state").GetString()} {indexedAfter:0.0} s after the upload answered = {seconds / indexedAfter:0.00}x real time"));
            var runs = video.GetProperty("stages").EnumerateArray()
                .Where(stage => stage.GetProperty("startedAt").ValueKind == JsonValueKind.String)
                .Select(stage => (Name: stage.GetProperty("stage").GetString(), Started: stage.GetProperty("startedAt").GetDateTimeOffset(), Finished: stage.GetProperty("finishedAt").GetDateTimeOffset()))
                .OrderBy(run => run.Started)
                .ToList();
            foreach (var (name, started, finished) in runs)
            {
                // The branches overlap, so a stage's wait is counted from the last stage that finished before it started.
                var freed = runs.Select(run => run.Finished).Where(end => end <= started).DefaultIfEmpty(answered).Max();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {name,-14} {(started - answered).TotalSeconds,7:0.0} → {(finished - answered).TotalSeconds,7:0.0} s  ran {(finished - started).TotalSeconds,6:0.0} s   waited {(started - freed).TotalSeconds,5:0.0} s"));
            }

            var idle = IdleSeconds(answered, runs.Select(run => (run.Started, run.Finished)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  no stage running for {idle:0.0} s of the {indexedAfter:0.0} s"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"worker peak resident memory since it started: {WorkerPeakMiB(dataDirectory):0} MiB"));
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>How long, from <paramref name="from"/> to the last stage's end, no stage was running.</summary>
    private static double IdleSeconds(DateTimeOffset from, IEnumerable<(DateTimeOffset Started, DateTimeOffset Finished)> runs)
    {
        var (idle, covered) = (0.0, from);
        foreach (var (started, finished) in runs.OrderBy(run => run.Started))
        {
            idle += Math.Max(0, (started - covered).TotalSeconds);
            covered = finished > covered ? finished : covered;
        }

        return idle;
    }

    private static double WorkerPeakMiB(string dataDirectory)
    {
        var pid = JsonDocument.Parse(File.ReadAllText(Path.Combine(dataDirectory, "endpoints.json"))).RootElement
            .GetProperty("resources").GetProperty("worker").GetProperty("pid").GetInt32();
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
