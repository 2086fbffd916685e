using Microsoft.Extensions.DependencyInjection;

namespace Heimdex.AppHost.Resources;

/// <summary>Where the Aspire dashboard is, and the secrets to use it: the browser's login token and the telemetry API's key.</summary>
public sealed record DashboardAddress(Uri Url, string BrowserToken, string ApiKey)
{
    public Uri LoginUrl => new(Url, $"/login?t={BrowserToken}");
}

public static class Dashboard
{
    /// <summary>
    /// The dashboard on a fixed loopback port (a bookmark keeps working) with its telemetry HTTP API on. The login
    /// token and API key are kept with the data, so an open dashboard tab stays logged in across restarts. OTLP stays
    /// plain http on loopback even when the pages are https: the services would not trust an untrusted development
    /// certificate, and their telemetry never leaves the machine.
    /// </summary>
    public static DashboardAddress UseFixedDashboard(this IDistributedApplicationBuilder builder, AppHostOptions options, DataDirectory data)
    {
        var scheme = options.DashboardHttps ? "https" : "http";
        var dashboard = new DashboardAddress(
            new Uri($"{scheme}://127.0.0.1:{options.DashboardPort}"), data.Secret("dashboard-browser-token"), data.Secret("dashboard-api-key"));
        builder.Configuration["ASPNETCORE_URLS"] = dashboard.Url.ToString().TrimEnd('/');
        builder.Configuration["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{DataDirectory.FreePort()}";
        builder.Configuration["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        builder.Configuration["AppHost:BrowserToken"] = dashboard.BrowserToken;
        builder.Configuration["AppHost:DashboardApiKey"] = dashboard.ApiKey;
        builder.Services.AddSingleton(dashboard);
        return dashboard;
    }
}
