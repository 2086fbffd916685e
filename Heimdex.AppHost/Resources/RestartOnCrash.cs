using Aspire.Hosting.ApplicationModel;
using Heimdex.Conventions;
using Heimdex.AppHost.Reporting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Heimdex.AppHost.Resources;

/// <summary>Marks a service to be started again when its process crashes.</summary>
public sealed class RestartOnCrashAnnotation : IResourceAnnotation;

public static class RestartOnCrash
{
    /// <summary>
    /// DCP leaves a process that exited as it is; a service marked here is started again when it crashes (see
    /// <see cref="CrashRestarter"/>). The dashboard's stop and start still do what they say.
    /// </summary>
    public static IResourceBuilder<T> WithRestartOnCrash<T>(this IResourceBuilder<T> service) where T : IResource
    {
        service.ApplicationBuilder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CrashRestarter>());
        return service.WithAnnotation(new RestartOnCrashAnnotation(), ResourceAnnotationMutationBehavior.Replace);
    }
}

/// <summary>
/// Starts a crashed service again with backoff: 1 s, doubling to 30 s while it crashes before it is healthy (it cannot
/// start), back to 1 s once it was healthy (a crash of a working service is not a crash loop). Left
/// alone: exit code 0 (it stopped), 78 (it found its configuration unusable, so a restart cannot help), a stop
/// someone asked for, and everything while the AppHost itself stops.
/// </summary>
internal sealed class CrashRestarter(
    ResourceNotificationService notifications,
    ResourceCommandService commands,
    ResourceLoggerService resourceLogs,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<CrashRestarter> logger) : EarlyBackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var states = new Dictionary<string, string?>();
        var crashes = new Dictionary<string, int>();
        var healthy = new HashSet<string>();
        await foreach (var update in notifications.WatchAsync(stoppingToken))
        {
            if (!update.Resource.HasAnnotationOfType<RestartOnCrashAnnotation>())
            {
                continue;
            }

            var state = update.Snapshot.State?.Text;
            if (state == KnownResourceStates.Running && update.Snapshot.HealthStatus == HealthStatus.Healthy)
            {
                healthy.Add(update.ResourceId);
            }

            var before = states.GetValueOrDefault(update.ResourceId);
            states[update.ResourceId] = state;
            if (state == before)
            {
                continue;
            }

            if (IsCrash(state, before, update.Snapshot.ExitCode) && !lifetime.ApplicationStopping.IsCancellationRequested)
            {
                var count = healthy.Remove(update.ResourceId) ? 1 : crashes.GetValueOrDefault(update.ResourceId) + 1;
                crashes[update.ResourceId] = count;
                var backoff = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, count - 1)));
                _ = RestartAsync(update.Resource, update.Snapshot.ExitCode!.Value, backoff, stoppingToken);
            }
        }
    }

    private static bool IsCrash(string? state, string? before, int? exitCode) =>
        (state == KnownResourceStates.Exited || state == KnownResourceStates.Finished)
        && before != KnownResourceStates.Stopping
        && exitCode is not (null or 0 or ServiceExitCodes.Misconfigured);

    private async Task RestartAsync(IResource service, int exitCode, TimeSpan backoff, CancellationToken cancellationToken)
    {
        var message = $"{service.Name} exited with code {exitCode}; starting it again in {backoff.TotalSeconds:0} s";
        logger.LogWarning("{Message}", message);
        resourceLogs.GetLogger(service).LogWarning("{Message}", message);
        try
        {
            await Task.Delay(backoff, time, cancellationToken);
            if (!lifetime.ApplicationStopping.IsCancellationRequested
                && await commands.ExecuteCommandAsync(service, KnownResourceCommands.StartCommand, cancellationToken) is { Success: false } failed)
            {
                logger.LogError("Could not start {Service} again: {Error}", service.Name, failed.Message);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
