using System.Diagnostics;

namespace Heimdex.Bench;

/// <summary>
/// How long pipeline jobs wait for a worker that is idle: short videos uploaded one at a time, each indexed before
/// the next, and from the stages' own times how long from the upload's answer to <c>validate</c> starting, and from
/// each stage finishing to the next one starting.
/// </summary>
public sealed class QueueBenchmark(string dataDirectory, int videos)
{
    public async Task RunAsync()
    {
        var graph = await RunningGraph.LoadAsync(dataDirectory);
        var (_, key) = await graph.CreateUserAsync("bench-queue");
        using var client = graph.Client(key);
        var clip = await ShortClipAsync();
        var bytes = await File.ReadAllBytesAsync(clip);
        File.Delete(clip);
        var (toFirstStage, betweenStages, total) = (new List<double>(), new List<double>(), new List<double>());
        for (var i = 0; i < videos; i++)
        {
            using var form = new MultipartFormDataContent { { new ByteArrayContent(bytes), "file", "clip.mp4" } };
            var (answered, video) = await PipelineRuns.UploadAndWaitAsync(client, form, TimeSpan.FromMilliseconds(100));
            var stages = video.GetProperty("stages").EnumerateArray()
                .Select(s => (Started: s.GetProperty("startedAt").GetDateTimeOffset(), Finished: s.GetProperty("finishedAt").GetDateTimeOffset()))
                .ToList();
            toFirstStage.Add((stages[0].Started - answered).TotalMilliseconds);
            betweenStages.AddRange(stages.Zip(stages.Skip(1), (before, after) => (after.Started - before.Finished).TotalMilliseconds));
            total.Add((stages[^1].Finished - answered).TotalMilliseconds);
        }

        Console.WriteLine($"{Environment.ProcessorCount} cores; {videos} videos of 2 s (320×240, no sound), each uploaded once the worker is idle");
        Console.WriteLine($"{"wait",-36} {"p50 ms",8} {"p95 ms",8} {"max ms",8}");
        Report("upload answered → validate started", toFirstStage);
        Report("stage finished → next stage started", betweenStages);
        Report("upload answered → indexed", total);
        Console.WriteLine("goal: a job enqueued while a worker is idle starts within 1000 ms (p95)");
    }

    private static void Report(string what, List<double> milliseconds) =>
        Console.WriteLine($"{what,-36} {Latency.Percentile(milliseconds, 50),8:0} {Latency.Percentile(milliseconds, 95),8:0} {milliseconds.Max(),8:0}");

    private static async Task<string> ShortClipAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), $"heimdex-bench-{Guid.NewGuid():N}.mp4");
        using var ffmpeg = Process.Start(new ProcessStartInfo("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-y", path])) ?? throw new InvalidOperationException("ffmpeg did not start");
        await ffmpeg.WaitForExitAsync();
        return ffmpeg.ExitCode == 0 ? path : throw new InvalidOperationException($"ffmpeg exited with {ffmpeg.ExitCode}");
    }
}
