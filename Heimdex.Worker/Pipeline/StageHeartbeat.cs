using Npgsql;

namespace Heimdex.Worker.Pipeline;

/// <summary>
/// A running stage's progress sink and pulse: it records progress (0–100) and refreshes the heartbeat on a timer, on
/// its own connection, so a long ffmpeg run is visibly alive and a dead worker is visibly dead. A beat that finds the
/// run gone (its video was deleted) cancels <see cref="VideoDeleted"/>, so the stage stops instead of writing on.
/// </summary>
public sealed class StageHeartbeat : IProgress<double>, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly Guid _runId;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _deleted = new();
    private readonly Task _loop;
    private int _progress;

    public StageHeartbeat(NpgsqlDataSource dataSource, Guid runId, TimeSpan interval, TimeProvider time)
    {
        _dataSource = dataSource;
        _runId = runId;
        _loop = BeatAsync(interval, time);
    }

    /// <summary>Cancelled when the stage's run no longer exists: its video was deleted while the stage ran.</summary>
    public CancellationToken VideoDeleted => _deleted.Token;

    /// <summary>Fraction done, 0–1.</summary>
    public void Report(double value) => Volatile.Write(ref _progress, (int)Math.Clamp(value * 100, 0, 99));

    private async Task BeatAsync(TimeSpan interval, TimeProvider time)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await using var command = _dataSource.CreateCommand(
                    "UPDATE \"StageRuns\" SET \"Progress\" = $1, \"HeartbeatAt\" = now() WHERE \"Id\" = $2 AND \"State\" = 'Running'");
                command.Parameters.Add(new NpgsqlParameter { Value = Volatile.Read(ref _progress) });
                command.Parameters.Add(new NpgsqlParameter { Value = _runId });
                try
                {
                    if (await command.ExecuteNonQueryAsync(_stop.Token) == 0 && !await RunExistsAsync())
                    {
                        await _deleted.CancelAsync();
                        return;
                    }
                }
                catch (NpgsqlException)
                {
                    // A missed beat is harmless; the watchdog allows several before it acts.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<bool> RunExistsAsync()
    {
        await using var command = _dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM \"StageRuns\" WHERE \"Id\" = $1)");
        command.Parameters.Add(new NpgsqlParameter { Value = _runId });
        return await command.ExecuteScalarAsync(_stop.Token) is true;
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        _deleted.Dispose();
    }
}
