using Microsoft.Extensions.Hosting;

namespace Heimdex.AppHost.Reporting;

/// <summary>
/// A background service that starts before every other hosted service. Aspire's orchestrator finishes starting only
/// once every resource has started, so a service that must watch the start itself (a server that never comes up)
/// cannot wait for its turn.
/// </summary>
public abstract class EarlyBackgroundService : IHostedLifecycleService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _running = Task.CompletedTask;

    protected abstract Task ExecuteAsync(CancellationToken stoppingToken);

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _running = Task.Run(() => ExecuteAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await _running.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }
}
