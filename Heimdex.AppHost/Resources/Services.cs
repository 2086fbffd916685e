using Aspire.Hosting.ApplicationModel;

namespace Heimdex.AppHost.Resources;

/// <summary>How Heimdex's own services (and its development storage) are run under the AppHost.</summary>
public static class Services
{
    /// <summary>
    /// An HTTP endpoint the service itself listens on, at 127.0.0.1:<paramref name="port"/>, without a DCP proxy in
    /// between: addresses stay the ones people and scripts bookmark, across restarts too.
    /// </summary>
    public static IResourceBuilder<T> WithLoopbackHttp<T>(this IResourceBuilder<T> service, int port) where T : IResourceWithEndpoints =>
        service.WithHttpEndpoint(port: port, targetPort: port, isProxied: false)
            .WithEndpoint("http", endpoint => endpoint.TargetHost = "127.0.0.1");

    /// <summary>A page of the service (its OpenAPI document, a dashboard), listed in the Aspire dashboard and in endpoints.json.</summary>
    public static IResourceBuilder<T> WithLink<T>(this IResourceBuilder<T> service, string name, string path) where T : IResourceWithEndpoints =>
        service.WithUrls(context => context.Urls.Add(new ResourceUrlAnnotation
        {
            Url = service.Resource.GetEndpoint("http").Url + path,
            DisplayText = name,
        }));

    /// <summary>
    /// What every Heimdex service gets: the Development environment of a local graph, and telemetry sent to
    /// <paramref name="options"/>' OTLP endpoint instead of the dashboard when one is given.
    /// </summary>
    /// <remarks>
    /// An export gets 2 s, not OpenTelemetry's 10: when the AppHost is killed, DCP stops the dashboard together with
    /// the services, and each service's last flush of traces, metrics and logs would otherwise wait 10 s apiece.
    /// </remarks>
    public static IResourceBuilder<ProjectResource> AsHeimdexService(this IResourceBuilder<ProjectResource> service, AppHostOptions options)
    {
        service.WithEnvironment("DOTNET_ENVIRONMENT", "Development").WithEnvironment("OTEL_EXPORTER_OTLP_TIMEOUT", "2000");
        return options.OtlpEndpoint is { } otlp ? service.WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", otlp) : service;
    }
}
