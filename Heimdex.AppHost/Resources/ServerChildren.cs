using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace Heimdex.AppHost.Resources;

/// <summary>What a server must make before it can be used: a database, a bucket.</summary>
internal static class ServerChildren
{
    /// <summary>
    /// <paramref name="child"/> waits until <paramref name="server"/> is ready, is made then (again after every restart
    /// of the server: <paramref name="make"/> must leave what exists alone), and runs from then on; resources that
    /// wait for it start after that.
    /// </summary>
    public static IResourceBuilder<T> MadeWhenReady<T>(
        this IResourceBuilder<T> child, IResource server, string resourceType, Func<CancellationToken, Task> make) where T : IResource
    {
        child.ApplicationBuilder.Eventing.Subscribe<ResourceReadyEvent>(server, async (ready, cancellationToken) =>
        {
            await make(cancellationToken);
            await ready.Services.GetRequiredService<ResourceNotificationService>()
                .PublishUpdateAsync(child.Resource, state => state with { State = KnownResourceStates.Running });
        });
        return child.WithInitialState(new CustomResourceSnapshot
        {
            ResourceType = resourceType,
            State = KnownResourceStates.Waiting,
            Properties = [new(CustomResourceKnownProperties.Source, server.Name)],
        });
    }
}
