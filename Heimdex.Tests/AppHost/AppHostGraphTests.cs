using Amazon.S3.Model;
using Heimdex.Shared;
using Heimdex.Shared.Storage;
using Npgsql;
using StackExchange.Redis;

namespace Heimdex.Tests.AppHost;

/// <summary>The whole graph, started from the real AppHost on a temporary data directory; no server is mocked.</summary>
[Collection(AppHostCollection.Name)]
public sealed class AppHostGraphTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Graph_becomes_healthy_restarts_a_crashed_service_stops_cleanly_on_ctrl_c_and_reuses_its_data()
    {
        var dataDirectory = AppHostProcess.NewDataDirectory();
        await using (var host = AppHostProcess.Start(dataDirectory))
        {
            var endpoints = await host.WaitForAllHealthyAsync();
            using var http = new HttpClient();
            Assert.Equal("Healthy", await SettledHealthAsync(http, endpoints.Url("api")));
            Assert.Equal("Healthy", await SettledHealthAsync(http, endpoints.Url("worker")));
            Assert.Contains("all resources healthy", host.Output);
            Assert.Contains(endpoints.Endpoint("api", "scalar"), host.Output);
            Assert.Contains(endpoints.Endpoint("worker", "hangfire"), host.Output);
            await WriteMarkersAsync(endpoints);

            var crashedPid = endpoints.Pid("api");
            Assert.Equal(0, Kill(crashedPid));
            var recovered = await host.WaitForEndpointsAsync(
                e => e.State("api") == "healthy" && e.Pid("api") != crashedPid, TimeSpan.FromMinutes(1), "the api to be restarted");
            Assert.Contains("api       restarting", host.Output);
            Assert.Equal("Healthy", await SettledHealthAsync(http, recovered.Url("api")));

            var children = host.Descendants();
            Assert.True(children.Count >= 5, $"expected postgres, redis, storage, api and worker below the AppHost, found {children.Count}");
            host.Signal("INT");
            Assert.Equal(0, await host.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Empty(await AppHostProcess.SurvivorsAfterAsync(children, TimeSpan.FromSeconds(5)));
            Assert.True(host.Output.IndexOf("api       stopped", StringComparison.Ordinal)
                        < host.Output.IndexOf("postgres  stopped", StringComparison.Ordinal),
                "services stop before the servers they depend on");
        }

        await using (var again = AppHostProcess.Start(dataDirectory))
        {
            var endpoints = await again.WaitForAllHealthyAsync();
            await AssertMarkersAsync(endpoints);
            again.Signal("TERM");
            Assert.Equal(0, await again.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        }

        Directory.Delete(dataDirectory, recursive: true);
    }

    /// <summary>
    /// A service may report Degraded (still answering) while it warms up, as the API does while it loads its search
    /// indexes; an empty library loads in moments, so anything but Healthy after that is a failure.
    /// </summary>
    private static Task<string> SettledHealthAsync(HttpClient http, Uri service) =>
        Eventually.PollAsync(() => http.GetStringAsync(new Uri(service, "/health"), Cancellation),
            health => health != "Degraded", $"settled health of {service}", seconds: 30);

    [Fact]
    public async Task Killing_the_apphost_with_sigkill_leaves_no_child_behind()
    {
        var dataDirectory = AppHostProcess.NewDataDirectory();
        await using var host = AppHostProcess.Start(dataDirectory);
        await host.WaitForAllHealthyAsync();
        var children = host.Descendants();
        Assert.NotEmpty(children);

        host.Signal("KILL");
        await host.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Empty(await AppHostProcess.SurvivorsAfterAsync(children, TimeSpan.FromSeconds(15)));
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task A_server_that_cannot_start_fails_the_run_with_its_last_log_lines()
    {
        var dataDirectory = AppHostProcess.NewDataDirectory();
        var postgresData = Directory.CreateDirectory(Path.Combine(dataDirectory, "postgres")).FullName;
        await File.WriteAllTextAsync(Path.Combine(postgresData, "PG_VERSION"), "7\n", Cancellation); // not a cluster any server can open

        await using var host = AppHostProcess.Start(dataDirectory);
        var exitCode = await host.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(1, exitCode);
        Assert.Contains("Heimdex could not run: postgres exited with code", host.Output);
        Assert.Contains("Its last lines:\n  postgres: could not access the server configuration file", host.Output);
        Assert.DoesNotContain("all resources healthy", host.Output);
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task A_worker_missing_what_it_needs_refuses_to_start_and_the_apphost_shows_why()
    {
        var dataDirectory = AppHostProcess.NewDataDirectory();
        await using var host = AppHostProcess.Start(dataDirectory, new Dictionary<string, string>
        {
            ["Pipeline__FFprobePath"] = "/nonexistent/ffprobe",
            ["Pipeline__FFmpegPath"] = "/nonexistent/ffmpeg",
            ["Models__WhisperModelPath"] = "/nonexistent/ggml-base.en.bin",
        });

        Assert.Equal(1, await host.WaitForExitAsync(TimeSpan.FromMinutes(3)));
        Assert.Contains("Heimdex could not run: worker exited with code 78", host.Output);
        Assert.Contains("The Heimdex worker cannot start; it needs:", host.Output);
        Assert.Contains("ffmpeg (/nonexistent/ffmpeg) was not found", host.Output);
        Assert.Contains("ffprobe (/nonexistent/ffprobe) was not found", host.Output);
        Assert.Contains("stage TranscribeStage: the Whisper model /nonexistent/ggml-base.en.bin (Models__WhisperModelPath) does not exist", host.Output);
        Assert.DoesNotContain("worker   restarting", host.Output); // a configuration problem is not retried
        Directory.Delete(dataDirectory, recursive: true);
    }

    private static async Task WriteMarkersAsync(GraphEndpoints endpoints)
    {
        await using (var connection = new NpgsqlConnection(endpoints.ConnectionString(ConnectionNames.Database)))
        {
            await connection.OpenAsync(Cancellation);
            await using var command = new NpgsqlCommand("CREATE TABLE marker (value text); INSERT INTO marker VALUES ('kept')", connection);
            await command.ExecuteNonQueryAsync(Cancellation);
        }

        var storage = StorageConnection.Parse(endpoints.ConnectionString(ConnectionNames.Storage));
        using var s3 = storage.CreateClient();
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = storage.Bucket, Key = "marker.txt", ContentBody = "kept" }, Cancellation);

        await using var redis = await ConnectionMultiplexer.ConnectAsync(endpoints.ConnectionString(ConnectionNames.Redis));
        Assert.True(await redis.GetDatabase().StringSetAsync("heimdex:test:marker", "kept"));
    }

    private static async Task AssertMarkersAsync(GraphEndpoints endpoints)
    {
        await using (var connection = new NpgsqlConnection(endpoints.ConnectionString(ConnectionNames.Database)))
        {
            await connection.OpenAsync(Cancellation);
            await using var command = new NpgsqlCommand("SELECT value FROM marker", connection);
            Assert.Equal("kept", await command.ExecuteScalarAsync(Cancellation));
        }

        var storage = StorageConnection.Parse(endpoints.ConnectionString(ConnectionNames.Storage));
        using var s3 = storage.CreateClient();
        using var marker = await s3.GetObjectAsync(storage.Bucket, "marker.txt", Cancellation);
        Assert.Equal("kept", await new StreamReader(marker.ResponseStream).ReadToEndAsync(Cancellation));

        await using var redis = await ConnectionMultiplexer.ConnectAsync(endpoints.ConnectionString(ConnectionNames.Redis));
        Assert.Equal("kept", (string?)await redis.GetDatabase().StringGetAsync("heimdex:test:marker"));
    }

    private static int Kill(int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-KILL", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        return kill.ExitCode;
    }
}

/// <summary>Graphs started one at a time: each is a handful of servers, and CI has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AppHostCollection
{
    public const string Name = "AppHost graph";
}
