using System.Net.Http.Json;
using Hangfire;
using Hangfire.Redis.StackExchange;
using Heimdex.Conventions;
using Heimdex.Shared;
using Heimdex.Shared.Storage;
using Heimdex.Tests.AppHost;
using StackExchange.Redis;

namespace Heimdex.Tests;

/// <summary>
/// One real graph (PostgreSQL, Redis, storage, migrations, API, worker, and the Aspire dashboard receiving their
/// telemetry) started from the AppHost for a whole test collection, with two ordinary users besides the administrator.
/// </summary>
public sealed class HeimdexGraph : IAsyncLifetime
{
    /// <summary>Small enough that a test can exceed it; large enough for two multipart parts.</summary>
    public const long MaxUploadBytes = 40_000_000;

    /// <summary>How old stored bytes no row owns must be before a sweep removes them: seconds here, not a day.</summary>
    public static readonly TimeSpan OrphanAfter = TimeSpan.FromSeconds(5);

    /// <summary>The services' configuration in test graphs: limits a test can exceed, failure handling on a test's time scale.</summary>
    public static IReadOnlyDictionary<string, string> ServiceEnvironment { get; } = new Dictionary<string, string>
    {
        ["Uploads__MaxBytes"] = MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Uploads__OrphanAfter"] = OrphanAfter.ToString(),
        // Failure handling on a test's time scale: quick retries, a watchdog that notices a dead worker in seconds.
        ["Pipeline__RetryDelaysSeconds__0"] = "1",
        ["Pipeline__RetryDelaysSeconds__1"] = "1",
        ["Pipeline__HeartbeatInterval"] = "00:00:01",
        // Long enough that a worker busy with CPU-bound stages on two cores is never taken for dead.
        ["Pipeline__HeartbeatTimeout"] = "00:00:30",
        ["Pipeline__WatchdogInterval"] = "00:00:02",
        ["Pipeline__StallTimeout"] = "00:01:30",
        ["Search__ReconcileInterval"] = "00:00:02",
    };

    private TestGraph? _graph;
    private ConnectionMultiplexer? _redis;

    public TestGraph Graph => _graph!;

    public string AdminKey { get; private set; } = "";

    public string AliceKey { get; private set; } = "";

    public string BobKey { get; private set; } = "";

    public StorageConnection Storage { get; private set; } = null!;

    public string DatabaseConnectionString { get; private set; } = "";

    public JobStorage Jobs { get; private set; } = null!;

    public string RedisConnectionString { get; private set; } = "";

    public Uri Api { get; private set; } = null!;

    public Uri HangfireDashboard => new(Graph.Endpoint("worker"), ServiceEndpoints.HangfireDashboard);

    /// <summary>Runs one SQL statement against the graph's database; for tests that put rows into a state on purpose.</summary>
    public async Task<int> ExecuteSqlAsync(string sql, params object[] parameters)
    {
        await using var connection = new Npgsql.NpgsqlConnection(DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = parameter });
        }

        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>How many rows a table of the graph's database holds.</summary>
    public async Task<long> CountRowsAsync(string table)
    {
        await using var connection = new Npgsql.NpgsqlConnection(DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM \"{table}\"", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask InitializeAsync()
    {
        _graph = await TestGraph.StartAsync(dashboard: true, serviceEnvironment: ServiceEnvironment);
        await _graph.WaitForHealthyAsync("api", "worker");
        Api = _graph.Endpoint("api");
        Storage = StorageConnection.Parse(await _graph.ConnectionStringAsync(ConnectionNames.Storage));
        DatabaseConnectionString = await _graph.ConnectionStringAsync(ConnectionNames.Database);
        AdminKey = await _graph.AdminKeyAsync();
        AliceKey = await CreateUserAsync("alice");
        BobKey = await CreateUserAsync("bob");
        RedisConnectionString = await _graph.ConnectionStringAsync(ConnectionNames.Redis);
        _redis = await ConnectionMultiplexer.ConnectAsync(RedisConnectionString);
        Jobs = new RedisStorage(_redis, new RedisStorageOptions { Prefix = InfrastructureRegistration.HangfirePrefix });
    }

    public HttpClient Client(string? apiKey) => TestGraph.Client(Api, apiKey);

    /// <summary>Storage as it is now, to compare with after an operation that must leave nothing behind.</summary>
    public async Task<(HashSet<string> Objects, HashSet<string> MultipartUploads)> StorageSnapshotAsync()
    {
        using var s3 = Storage.CreateClient();
        return await TestFiles.StorageSnapshotAsync(s3, Storage.Bucket);
    }

    /// <summary>
    /// What appeared in storage since <paramref name="before"/> and belongs to no video that exists: objects of other
    /// videos that pipelines wrote meanwhile are not leftovers.
    /// </summary>
    public async Task<IReadOnlyList<string>> LeftBehindSinceAsync((HashSet<string> Objects, HashSet<string> MultipartUploads) before)
    {
        var after = await StorageSnapshotAsync();
        await using var connection = new Npgsql.NpgsqlConnection(DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT \"Id\" FROM \"Videos\"", connection);
        var videos = new HashSet<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                videos.Add(StorageKeys.VideoPrefix(reader.GetGuid(0)));
            }
        }

        return after.Objects.Except(before.Objects).Where(key => !videos.Any(key.StartsWith))
            .Concat(after.MultipartUploads.Except(before.MultipartUploads).Select(id => $"multipart upload {id}"))
            .ToList();
    }

    public async Task<string> CreateUserAsync(string name)
    {
        using var admin = Client(AdminKey);
        return await CreateUserAsync(admin, name);
    }

    /// <summary>Creates a user through the administrator's <paramref name="admin"/> client; returns the user's API key.</summary>
    public static async Task<string> CreateUserAsync(HttpClient admin, string name)
    {
        using var response = await admin.PostAsJsonAsync("/api/users", new { name });
        response.EnsureSuccessStatusCode();
        var created = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return created.GetProperty("key").GetProperty("key").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        _redis?.Dispose();
        if (_graph is not null)
        {
            await _graph.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeimdexGraphCollection : ICollectionFixture<HeimdexGraph>
{
    public const string Name = "Heimdex graph";
}
