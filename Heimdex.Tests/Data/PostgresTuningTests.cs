using Heimdex.AppHost.Resources;
using Npgsql;

namespace Heimdex.Tests.Data;

/// <summary>The graph's PostgreSQL runs with the settings sized for this machine, not the server's defaults.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class PostgresTuningTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_server_runs_with_memory_and_planner_settings_sized_for_the_machine()
    {
        await using var connection = new NpgsqlConnection(graph.DatabaseConnectionString);
        await connection.OpenAsync(Cancellation);
        var memory = PostgresTuning.Memory(PostgresTuning.MachineBytes);
        Assert.True(memory.Single(setting => setting.Name == "shared_buffers").Bytes > 128 * 1024 * 1024, "more shared buffers than the default's 128 MB");
        foreach (var setting in memory)
        {
            Assert.Equal((setting.Name, setting.Bytes), (setting.Name, await connection.ScalarAsync<long>($"SELECT pg_size_bytes(current_setting('{setting.Name}'))")));
        }

        foreach (var (name, value) in PostgresTuning.Planner)
        {
            Assert.Equal((name, value), (name, await connection.ScalarAsync<string>($"SELECT current_setting('{name}')")));
        }
    }
}
