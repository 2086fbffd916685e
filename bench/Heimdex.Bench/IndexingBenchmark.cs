using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Heimdex.Bench;

/// <summary>
/// <c>bench -- indexing</c>: generated talks (<see cref="TalkVideos"/>) of 2 and 10 minutes uploaded through the API,
/// one at a time to an idle worker; wall time from the upload's answer to <c>indexed</c>, each stage's time and the wait
/// before it, the ratio of the talk's length to that time, and the worker's peak resident memory.
/// </summary>
public sealed class IndexingBenchmark(string dataDirectory, string audioDirectory, string photo)
{
    private static readonly double[] Lengths = [120, 600];

    public async Task RunAsync()
    {
        var graph = await RunningGraph.LoadAsync(dataDirectory);
        var (_, key) = await graph.CreateUserAsync("bench-indexing");
        using var client = graph.Client(key);
        var directory = Directory.CreateTempSubdirectory("heimdex-indexing-bench").FullName;
        Console.WriteLine($"{Environment.ProcessorCount} cores; talks of 720p slides with narration; goal: indexed at >= 4x real time");
        foreach (var seconds in Lengths)
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
            var previous = answered;
            foreach (var stage in video.GetProperty("stages").EnumerateArray())
            {
                if (stage.GetProperty("startedAt").ValueKind != JsonValueKind.String)
                {
                    continue;
                }

                var (started, finished) = (stage.GetProperty("startedAt").GetDateTimeOffset(), stage.GetProperty("finishedAt").GetDateTimeOffset());
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {stage.GetProperty("stage").GetString(),-14} {(finished - started).TotalSeconds,7:0.0} s   waited {(started - previous).TotalSeconds,5:0.0} s before it"));
                previous = finished > previous ? finished : previous;
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"worker peak resident memory since it started: {WorkerPeakMiB(dataDirectory):0} MiB"));
        Directory.Delete(directory, recursive: true);
    }

    private static double WorkerPeakMiB(string dataDirectory)
    {
        var pid = JsonDocument.Parse(File.ReadAllText(Path.Combine(dataDirectory, "endpoints.json"))).RootElement
            .GetProperty("resources").GetProperty("worker").GetProperty("pid").GetInt32();
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
