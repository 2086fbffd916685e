using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Amazon.S3.Transfer;
using Heimdex.Conventions;
using Heimdex.Shared;
using Heimdex.Shared.Storage;

namespace Heimdex.Bench;

/// <summary>
/// Throughput of one large upload through each path — POST /api/videos, tus PATCHes, and AWSSDK.S3 straight to the
/// same storage — and the API process's peak resident memory during each, against a running graph.
/// </summary>
public sealed class UploadBenchmark(string dataDirectory, long size)
{
    private const int TusChunk = 256 * 1024 * 1024;

    public async Task RunAsync()
    {
        var graph = await RunningGraph.LoadAsync(dataDirectory);
        var storage = StorageConnection.Parse(graph.ConnectionString(ConnectionNames.Storage));
        using var http = graph.Client(graph.AdminKey);
        using var s3 = storage.CreateClient();

        Console.WriteLine($"upload of {size / (1024.0 * 1024):0} MiB; API pid {graph.ApiPid}, resident before: {graph.ApiResidentMiB():0} MiB");
        Console.WriteLine($"{"path",-28} {"seconds",8} {"MiB/s",8} {"API peak RSS MiB",17}");
        await MeasureAsync("POST /api/videos (form)", graph, async () =>
        {
            using var form = new MultipartFormDataContent { { new StreamContent(new SyntheticVideo(size)), "file", "bench.mp4" } };
            using var response = await http.PostAsync("/api/videos", form);
            await DeleteVideoAsync(http, response);
        });
        await MeasureAsync("tus, 256 MiB PATCHes", graph, async () =>
        {
            using var create = new HttpRequestMessage(HttpMethod.Post, "/api/uploads")
            {
                Headers = { { "Tus-Resumable", "1.0.0" }, { "Upload-Length", size.ToString(CultureInfo.InvariantCulture) } },
            };
            var location = (await http.SendAsync(create)).EnsureSuccessStatusCode().Headers.Location!.OriginalString;
            var source = new SyntheticVideo(size);
            for (long offset = 0; offset < size; offset += TusChunk)
            {
                var chunk = new byte[Math.Min(TusChunk, size - offset)];
                source.ReadExactly(chunk);
                using var patch = new HttpRequestMessage(HttpMethod.Patch, location)
                {
                    Headers = { { "Tus-Resumable", "1.0.0" }, { "Upload-Offset", offset.ToString(CultureInfo.InvariantCulture) } },
                    Content = new ByteArrayContent(chunk) { Headers = { ContentType = new MediaTypeHeaderValue("application/offset+octet-stream") } },
                };
                (await http.SendAsync(patch)).EnsureSuccessStatusCode();
            }

            var upload = JsonDocument.Parse(await http.GetStringAsync(location)).RootElement;
            (await http.DeleteAsync($"/api/videos/{upload.GetProperty("videoId").GetGuid()}")).EnsureSuccessStatusCode();
        });
        await MeasureAsync("AWSSDK.S3 direct (baseline)", graph, async () =>
        {
            const string benchKey = "bench/direct";
            using var transfer = new TransferUtility(s3);
            await transfer.UploadAsync(new SyntheticVideo(size), storage.Bucket, benchKey);
            await s3.DeleteObjectAsync(storage.Bucket, benchKey);
        });
    }

    private static async Task DeleteVideoAsync(HttpClient http, HttpResponseMessage response)
    {
        response.EnsureSuccessStatusCode();
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        (await http.DeleteAsync($"/api/videos/{id}")).EnsureSuccessStatusCode();
    }

    private async Task MeasureAsync(string name, RunningGraph graph, Func<Task> upload)
    {
        using var sampling = new CancellationTokenSource();
        var peak = graph.ApiResidentMiB();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, graph.ApiResidentMiB());
                await Task.Delay(50);
            }
        });
        var clock = Stopwatch.StartNew();
        await upload();
        clock.Stop();
        await sampling.CancelAsync();
        await sampler;
        var mibPerSecond = size / (1024.0 * 1024) / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"{name,-28} {clock.Elapsed.TotalSeconds,8:0.0} {mibPerSecond,8:0.0} {peak,17:0}");
    }
}
