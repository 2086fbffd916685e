using Npgsql;

namespace Heimdex.Tests.Data;

/// <summary>The API, the worker and their migrations use the database as its owner, a role with no power beyond it.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class DatabaseRoleTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Services_connect_as_the_databases_owner_which_is_no_superuser_and_cannot_make_roles_or_run_programs()
    {
        await using var connection = new NpgsqlConnection(graph.DatabaseConnectionString);
        await connection.OpenAsync(Cancellation);

        var role = await connection.ScalarAsync<string>("SELECT current_user");
        Assert.NotEqual("postgres", role);
        Assert.Equal([false, false, false, false],
            await connection.ListAsync<bool>("SELECT unnest(ARRAY[rolsuper, rolcreaterole, rolcreatedb, rolbypassrls]) FROM pg_roles WHERE rolname = current_user"));
        Assert.Equal(role, await connection.ScalarAsync<string>("SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()"));
        // Migrations made every table as that role, so later migrations can change them.
        Assert.Empty(await connection.ListAsync<string>("""
            SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relowner <> current_user::regrole
            """));
        // The API and the worker hold their pooled connections as the same role.
        Assert.Equal([role], await connection.ListAsync<string>(
            "SELECT DISTINCT usename::text FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"));

        foreach (var superuserOnly in (string[])["CREATE ROLE intruder LOGIN", "COPY (SELECT 1) TO PROGRAM 'true'", "CREATE DATABASE elsewhere", "ALTER SYSTEM SET work_mem = '1GB'"])
        {
            await using var command = new NpgsqlCommand(superuserOnly, connection);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync(Cancellation));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
    }
}
