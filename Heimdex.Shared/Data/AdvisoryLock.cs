using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Heimdex.Shared.Data;

/// <summary>
/// A PostgreSQL session-level advisory lock on one named thing (an upload, a video), held for as long as this object
/// lives. Every API and worker instance sees it, and a process that dies releases it with its connection.
/// </summary>
public sealed class AdvisoryLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly long _key;

    private AdvisoryLock(NpgsqlConnection connection, long key)
    {
        _connection = connection;
        _key = key;
    }

    /// <returns>The lock, or null when someone else holds it.</returns>
    public static Task<AdvisoryLock?> TryAcquireAsync(NpgsqlDataSource dataSource, string scope, Guid id, CancellationToken cancellationToken) =>
        AcquireAsync(dataSource, KeyOf(scope, id), "pg_try_advisory_lock", cancellationToken);

    /// <summary>Waits until the lock is free.</summary>
    public static async Task<AdvisoryLock> AcquireAsync(NpgsqlDataSource dataSource, string scope, Guid id, CancellationToken cancellationToken) =>
        (await AcquireAsync(dataSource, KeyOf(scope, id), "pg_advisory_lock", cancellationToken))!;

    private static long KeyOf(string scope, Guid id) => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"{scope}:{id}")));

    private static async Task<AdvisoryLock?> AcquireAsync(NpgsqlDataSource dataSource, long key, string function, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand($"SELECT {function}($1)::text", connection) { Parameters = { new() { Value = key } } };
            if (await command.ExecuteScalarAsync(cancellationToken) as string == "false")
            {
                await connection.DisposeAsync();
                return null;
            }

            return new AdvisoryLock(connection, key);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", _connection) { Parameters = { new() { Value = _key } } };
            await command.ExecuteNonQueryAsync();
        }
        finally
        {
            await _connection.DisposeAsync(); // closing the session releases the lock even if the unlock failed
        }
    }
}
