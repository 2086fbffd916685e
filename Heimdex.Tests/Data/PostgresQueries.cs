using Npgsql;

namespace Heimdex.Tests.Data;

/// <summary>Reading values straight from the graph's PostgreSQL, for tests that check the server itself.</summary>
public static class PostgresQueries
{
    public static async Task<T> ScalarAsync<T>(this NpgsqlConnection connection, string sql) => (await connection.ListAsync<T>(sql)).Single();

    public static async Task<List<T>> ListAsync<T>(this NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var values = new List<T>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }
}
