using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Amazon.S3.Model;
using Aspire.Hosting.ApplicationModel;
using Heimdex.Conventions;
using Heimdex.Shared.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace Heimdex.Tests.AppHost;

/// <summary>The whole graph, started from the real AppHost on a temporary data directory; no server is mocked.</summary>
[Collection(AppHostCollection.Name)]
public sealed class AppHostGraphTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>How long Ctrl-C, SIGTERM or SIGKILL of the AppHost may take to leave no process of the run behind.</summary>
    private static readonly TimeSpan CleanUp = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Dotnet_run_starts_the_graph_describes_it_stops_cleanly_on_ctrl_c_and_sigkill_and_keeps_its_data()
    {
        var dataDirectory = TestGraph.NewDataDirectory();
        await using (var host = AppHostProcess.Start(dataDirectory))
        {
            var endpoints = await host.WaitForAllHealthyAsync();
            var resources = endpoints.GetProperty("resources");
            foreach (var server in (string[])["postgres", "redis", "s3", "api", "worker"])
            {
                Assert.Equal("Running", resources.GetProperty(server).GetProperty("state").GetString());
                Assert.Equal("Healthy", resources.GetProperty(server).GetProperty("health").GetString());
                Assert.True(AppHostProcess.IsAlive(resources.GetProperty(server).GetProperty("pid").GetInt32()), $"{server}'s process");
            }

            Assert.Equal("Finished", resources.GetProperty("migrations").GetProperty("state").GetString());
            Assert.Equal(0, resources.GetProperty("migrations").GetProperty("exitCode").GetInt32());
            var api = new Uri(resources.GetProperty("api").GetProperty("url").GetString()!);
            Assert.Equal(api + ServiceEndpoints.Scalar.TrimStart('/'), resources.GetProperty("api").GetProperty("links").GetProperty("scalar").GetString());
            Assert.EndsWith(ServiceEndpoints.HangfireDashboard, resources.GetProperty("worker").GetProperty("links").GetProperty("hangfire").GetString());
            // The console logger writes from a queue of its own: the announcement may follow the file by a moment.
            await Eventually.PollAsync(() => Task.FromResult(host.Output), output => output.Contains("All resources are healthy", StringComparison.Ordinal),
                "the announcement that all resources are healthy", seconds: 10);
            Assert.Contains(api.ToString().TrimEnd('/'), host.Output);

            // The data is private to this user (others may only pass through, to reach PostgreSQL's folder as its own user).
            var everyone = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
            Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(dataDirectory) & (everyone | UnixFileMode.GroupExecute));
            Assert.All(Directory.GetDirectories(dataDirectory), folder =>
                Assert.True((File.GetUnixFileMode(folder) & (everyone | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == UnixFileMode.None, $"{folder} is {File.GetUnixFileMode(folder)}"));
            Assert.All(Directory.GetFiles(dataDirectory).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)), file =>
                Assert.True((File.GetUnixFileMode(file) & everyone) == UnixFileMode.None, $"{file} is {File.GetUnixFileMode(file)}"));

            // The administrator's key is private to this user and works.
            var adminKeyFile = Path.Combine(dataDirectory, "admin.key");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(adminKeyFile));
            using var http = new HttpClient();
            using (var videos = new HttpRequestMessage(HttpMethod.Get, new Uri(api, "/api/videos")))
            {
                videos.Headers.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(adminKeyFile, Cancellation)).Trim());
                Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(videos, Cancellation)).StatusCode);
            }

            // The dashboard is on the loopback port it was given, and its login link lets a browser in.
            var dashboard = endpoints.GetProperty("dashboard");
            var loginUrl = dashboard.GetProperty("loginUrl").GetString()!;
            Assert.StartsWith(dashboard.GetProperty("url").GetString() + "/login?t=", loginUrl);
            Assert.Contains(loginUrl, host.Output);
            using (var login = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }).GetAsync(loginUrl, Cancellation))
            {
                Assert.True(login.StatusCode is HttpStatusCode.OK or HttpStatusCode.Redirect or HttpStatusCode.Found, $"login answered {login.StatusCode}");
                Assert.Contains(login.Headers.GetValues("Set-Cookie"), cookie => cookie.Contains(".Aspire.Dashboard.Auth", StringComparison.Ordinal));
            }

            await WriteMarkersAsync(endpoints.GetProperty("connectionStrings"));
            var processes = host.GraphProcesses();
            Assert.True(processes.Count >= 8, $"expected DCP, postgres, redis, storage, api and worker of this run, found {processes.Count}");

            host.Interrupt();
            var stopped = DateTime.UtcNow;
            Assert.Equal(0, await host.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Empty(await AppHostProcess.SurvivorsAfterAsync(processes, CleanUp - (DateTime.UtcNow - stopped)));
        }

        await using (var again = AppHostProcess.Start(dataDirectory))
        {
            var endpoints = await again.WaitForAllHealthyAsync();
            await AssertMarkersAsync(endpoints.GetProperty("connectionStrings"));
            var processes = again.GraphProcesses();

            again.KillGroup();
            await again.WaitForExitAsync(TimeSpan.FromSeconds(10));
            Assert.Empty(await AppHostProcess.SurvivorsAfterAsync(processes, CleanUp));
        }

        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task A_server_that_cannot_start_is_shown_with_its_last_lines_and_nothing_waiting_on_it_starts()
    {
        var dataDirectory = TestGraph.NewDataDirectory();
        var postgresData = Directory.CreateDirectory(Path.Combine(dataDirectory, "postgres")).FullName;
        await File.WriteAllTextAsync(Path.Combine(postgresData, "PG_VERSION"), "7\n", Cancellation); // not a cluster any server can open

        await using var graph = await TestGraph.StartAsync(dataDirectory: dataDirectory, expectFailure: true);
        var postgres = await graph.WaitForAsync("postgres", e => e.Snapshot.ExitCode is not (null or 0), TimeSpan.FromMinutes(2));

        Assert.Contains("could not access the server configuration file", await graph.ConsoleLogsAsync("postgres"));
        var report = await Eventually.PollAsync(() => Task.FromResult(graph.HostLogs.Records), records => records.Any(r => r.Message.StartsWith("postgres exited", StringComparison.Ordinal)),
            "the AppHost's report of postgres", seconds: 30);
        Assert.Contains(report, r => r.Level == LogLevel.Error && r.Message.Contains($"postgres exited with code {postgres.Snapshot.ExitCode}. Its last lines:", StringComparison.Ordinal)
                                     && r.Message.Contains("could not access the server configuration file", StringComparison.Ordinal));
        foreach (var waiting in (string[])["migrations", "api", "worker"])
        {
            Assert.NotEqual(KnownResourceStates.Running, (await graph.WaitForAsync(waiting, _ => true, TimeSpan.FromSeconds(5))).Snapshot.State?.Text);
        }
    }

    [Fact]
    public async Task A_worker_missing_what_it_needs_refuses_to_start_says_why_and_is_not_restarted()
    {
        await using var graph = await TestGraph.StartAsync(expectFailure: true, workerEnvironment: new Dictionary<string, string>
        {
            ["Pipeline__FFprobePath"] = "/nonexistent/ffprobe",
            ["Pipeline__FFmpegPath"] = "/nonexistent/ffmpeg",
            ["Models__WhisperModelPath"] = "/nonexistent/ggml-base.en.bin",
        });

        var worker = await graph.WaitForAsync("worker", e => e.Snapshot.ExitCode is not (null or 0), TimeSpan.FromMinutes(3));
        Assert.Equal(ServiceExitCodes.Misconfigured, worker.Snapshot.ExitCode);
        var logs = await graph.ConsoleLogsAsync("worker");
        Assert.Contains("The Heimdex worker cannot start; it needs:", logs);
        Assert.Contains("ffmpeg (/nonexistent/ffmpeg) was not found", logs);
        Assert.Contains("ffprobe (/nonexistent/ffprobe) was not found", logs);
        Assert.Contains("stage TranscribeStage: the Whisper model /nonexistent/ggml-base.en.bin (Models__WhisperModelPath) does not exist", logs);
        await Eventually.PollAsync(() => Task.FromResult(graph.HostLogs.Records),
            records => records.Any(r => r.Message.StartsWith("worker exited with code 78", StringComparison.Ordinal) && r.Message.Contains("The Heimdex worker cannot start", StringComparison.Ordinal)),
            "the AppHost's report of the worker", seconds: 30);

        await Task.Delay(TimeSpan.FromSeconds(5), Cancellation); // a configuration problem is not retried
        Assert.Equal(ServiceExitCodes.Misconfigured, (await graph.WaitForAsync("worker", _ => true, TimeSpan.FromSeconds(5))).Snapshot.ExitCode);
        Assert.DoesNotContain(graph.HostLogs.Records, r => r.Message.StartsWith("worker exited with code 78; starting it again", StringComparison.Ordinal));
    }

    private static async Task WriteMarkersAsync(JsonElement connectionStrings)
    {
        await using (var connection = new NpgsqlConnection(connectionStrings.GetProperty(ConnectionNames.Database).GetString()))
        {
            await connection.OpenAsync(Cancellation);
            await using var command = new NpgsqlCommand("CREATE TABLE marker (value text); INSERT INTO marker VALUES ('kept')", connection);
            await command.ExecuteNonQueryAsync(Cancellation);
        }

        var storage = StorageConnection.Parse(connectionStrings.GetProperty(ConnectionNames.Storage).GetString()!);
        using var s3 = storage.CreateClient();
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = storage.Bucket, Key = "marker.txt", ContentBody = "kept" }, Cancellation);

        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionStrings.GetProperty(ConnectionNames.Redis).GetString()!);
        Assert.True(await redis.GetDatabase().StringSetAsync("heimdex:test:marker", "kept"));
    }

    private static async Task AssertMarkersAsync(JsonElement connectionStrings)
    {
        await using (var connection = new NpgsqlConnection(connectionStrings.GetProperty(ConnectionNames.Database).GetString()))
        {
            await connection.OpenAsync(Cancellation);
            await using var command = new NpgsqlCommand("SELECT value FROM marker", connection);
            Assert.Equal("kept", await command.ExecuteScalarAsync(Cancellation));
        }

        var storage = StorageConnection.Parse(connectionStrings.GetProperty(ConnectionNames.Storage).GetString()!);
        using var s3 = storage.CreateClient();
        using var marker = await s3.GetObjectAsync(storage.Bucket, "marker.txt", Cancellation);
        Assert.Equal("kept", await new StreamReader(marker.ResponseStream).ReadToEndAsync(Cancellation));

        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionStrings.GetProperty(ConnectionNames.Redis).GetString()!);
        Assert.Equal("kept", (string?)await redis.GetDatabase().StringGetAsync("heimdex:test:marker"));
    }
}

/// <summary>Graphs started one at a time: each is a handful of servers, and CI has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AppHostCollection
{
    public const string Name = "AppHost graph";
}
