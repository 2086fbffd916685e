using Npgsql;

namespace Heimdex.Api.Uploads;

/// <summary>
/// One request's right to write to a resumable upload: a lease on the upload's row, taken and renewed by short
/// statements, so a client sending slowly holds no database connection, and a writer that dies frees the upload when
/// its lease runs out. <see cref="Lost"/> is cancelled when a renewal finds the row gone (the upload was terminated) or
/// the lease taken over.
/// </summary>
public sealed class UploadWriterLease : IAsyncDisposable
{
    public static readonly TimeSpan Length = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan RenewEvery = Length / 3;

    private readonly NpgsqlDataSource _dataSource;
    private readonly Guid _uploadId;
    private readonly Guid _writerId;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewing;

    private UploadWriterLease(NpgsqlDataSource dataSource, Guid uploadId, Guid writerId)
    {
        (_dataSource, _uploadId, _writerId) = (dataSource, uploadId, writerId);
        _renewing = RenewAsync();
    }

    public CancellationToken Lost => _lost.Token;

    /// <returns>The lease, or null when the owner has no such upload or another request holds it.</returns>
    public static async Task<UploadWriterLease?> TryTakeAsync(NpgsqlDataSource dataSource, Guid uploadId, Guid ownerId, CancellationToken cancellationToken)
    {
        var writerId = Guid.CreateVersion7();
        var taken = await ExecuteAsync(dataSource, """
            UPDATE "Uploads" SET "WriterId" = $1, "WriterUntil" = now() + $2
            WHERE "Id" = $3 AND "OwnerId" = $4 AND ("WriterUntil" IS NULL OR "WriterUntil" < now())
            """, [writerId, Length, uploadId, ownerId], cancellationToken);
        return taken == 1 ? new UploadWriterLease(dataSource, uploadId, writerId) : null;
    }

    private async Task RenewAsync()
    {
        var lastRenewed = DateTimeOffset.UtcNow;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RenewEvery, _stop.Token);
                var renewed = await ExecuteAsync(_dataSource,
                    """UPDATE "Uploads" SET "WriterUntil" = now() + $1 WHERE "Id" = $2 AND "WriterId" = $3""",
                    [Length, _uploadId, _writerId], _stop.Token);
                if (renewed == 0)
                {
                    await _lost.CancelAsync();
                    return;
                }

                lastRenewed = DateTimeOffset.UtcNow;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (NpgsqlException) when (DateTimeOffset.UtcNow - lastRenewed < Length - RenewEvery)
            {
                // The database did not answer this time; the lease still runs, so try again.
            }
            catch (NpgsqlException)
            {
                await _lost.CancelAsync(); // it may have run out: another request could be writing now
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _renewing;
        try
        {
            await ExecuteAsync(_dataSource,
                """UPDATE "Uploads" SET "WriterId" = NULL, "WriterUntil" = NULL WHERE "Id" = $1 AND "WriterId" = $2""",
                [_uploadId, _writerId], CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // Unreleased, the lease runs out by itself.
        }

        _stop.Dispose();
        _lost.Dispose();
    }

    private static async Task<int> ExecuteAsync(NpgsqlDataSource dataSource, string sql, object[] parameters, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
