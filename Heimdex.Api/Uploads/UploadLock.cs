using Npgsql;

namespace Heimdex.Api.Uploads;

/// <summary>
/// A PostgreSQL advisory lock on one upload, held for a request: two API instances (or a client's retry racing its
/// own dropped request) never append to the same upload at once.
/// </summary>
public sealed class UploadLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly long _key;

    private UploadLock(NpgsqlConnection connection, long key)
    {
        _connection = connection;
        _key = key;
    }

    public static async Task<UploadLock?> TryAcquireAsync(NpgsqlDataSource dataSource, Guid uploadId, CancellationToken cancellationToken) =>
        await AcquireAsync(dataSource, uploadId, "pg_try_advisory_lock", cancellationToken);

    public static async Task<UploadLock> AcquireAsync(NpgsqlDataSource dataSource, Guid uploadId, CancellationToken cancellationToken) =>
        (await AcquireAsync(dataSource, uploadId, "pg_advisory_lock", cancellationToken))!;

    private static async Task<UploadLock?> AcquireAsync(NpgsqlDataSource dataSource, Guid uploadId, string function, CancellationToken cancellationToken)
    {
        var key = BitConverter.ToInt64(uploadId.ToByteArray(), 8);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT {function}($1)::text", connection) { Parameters = { new() { Value = key } } };
        var result = await command.ExecuteScalarAsync(cancellationToken) as string;
        if (result is "false")
        {
            await connection.DisposeAsync();
            return null;
        }

        return new UploadLock(connection, key);
    }

    public async ValueTask DisposeAsync()
    {
        await using (var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", _connection) { Parameters = { new() { Value = _key } } })
        {
            await command.ExecuteNonQueryAsync();
        }

        await _connection.DisposeAsync();
    }
}
