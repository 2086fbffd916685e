using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Heimdex.AppHost.Resources;

public static class OrderlyShutdownExtensions
{
    /// <summary>When the AppHost stops, resources that wait for others stop first, while what they use still runs.</summary>
    public static IDistributedApplicationBuilder AddOrderlyShutdown(this IDistributedApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IHostedService, OrderlyShutdown>();
        return builder;
    }
}

/// <summary>
/// DCP stops every resource at once. Stopping the services first (those that wait for other resources and that
/// nothing waits for) lets a worker interrupted mid-stage record where it stopped in PostgreSQL, and lets every
/// service flush its telemetry to a dashboard that still runs; the servers stop after.
/// </summary>
internal sealed class OrderlyShutdown(
    DistributedApplicationModel model,
    ResourceCommandService commands,
    ResourceNotificationService notifications,
    ILogger<OrderlyShutdown> logger) : IHostedLifecycleService
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(15);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var waitedFor = model.Resources.SelectMany(r => r.Annotations.OfType<WaitAnnotation>()).Select(w => w.Resource).ToHashSet();
        var services = model.Resources
            .Where(r => r.Annotations.OfType<WaitAnnotation>().Any() && !waitedFor.Contains(r))
            .Where(r => notifications.TryGetCurrentState(r.Name, out var current) && current.Snapshot.State?.Text == KnownResourceStates.Running)
            .ToList();
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(Grace);
        try
        {
            await Task.WhenAll(services.Select(service => commands.ExecuteCommandAsync(service, KnownResourceCommands.StopCommand, grace.Token)));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Services did not stop within {Grace}; stopping everything now", Grace);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
