using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting.ApplicationModel;
using Heimdex.AppHost.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Heimdex.AppHost.Reporting;

public static class GraphReportExtensions
{
    /// <summary>Keeps <c>endpoints.json</c> current and tells the console when the graph is up or a resource stopped.</summary>
    public static IDistributedApplicationBuilder AddGraphReport(this IDistributedApplicationBuilder builder, DataDirectory data)
    {
        builder.Services.AddSingleton(data);
        builder.Services.AddHostedService<GraphReport>();
        return builder;
    }
}

/// <summary>
/// What the AppHost tells people and scripts besides the dashboard: <c>endpoints.json</c> in the data directory (every
/// resource's state, health, process, URL and links, the connection strings, the dashboard's address and login),
/// the table of addresses once everything is up, and why a resource stopped, with its last lines.
/// </summary>
internal sealed class GraphReport(
    DistributedApplicationModel model,
    ResourceNotificationService notifications,
    ResourceLoggerService logs,
    DataDirectory data,
    DashboardAddress dashboard,
    ILogger<GraphReport> logger) : EarlyBackgroundService
{
    private const int LastLines = 20;
    private const string PidProperty = "executable.pid";
    private readonly Dictionary<string, ResourceEvent> _latest = [];
    private readonly HashSet<string> _hidden = [];
    private readonly Dictionary<string, string> _connectionStrings = [];
    private bool _announced;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Steps other resources wait to complete (the migration) are ready when they finished with success.
        var steps = model.Resources.SelectMany(r => r.Annotations.OfType<WaitAnnotation>())
            .Where(w => w.WaitType == WaitType.WaitForCompletion).Select(w => w.Resource.Name).ToHashSet();
        WriteEndpointsFile(allReady: false); // what an earlier run left there no longer holds
        await foreach (var update in notifications.WatchAsync(stoppingToken))
        {
            if (update.Resource is ParameterResource || update.Snapshot.IsHidden)
            {
                _hidden.Add(update.Resource.Name); // the dashboard itself, rebuild helpers
                continue;
            }

            var before = _latest.GetValueOrDefault(update.Resource.Name)?.Snapshot;
            _latest[update.Resource.Name] = update;
            try
            {
                await ReportAsync(update, before, steps, stoppingToken);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // A report that fails once (a disk full, a log that cannot be read) must not end the reports after it.
                logger.LogWarning(error, "Could not report the state of {Resource}", update.Resource.Name);
            }
        }
    }

    private async Task ReportAsync(ResourceEvent update, CustomResourceSnapshot? before, HashSet<string> steps, CancellationToken cancellationToken)
    {
        if (IsStop(update.Snapshot) && before is { } previous && previous.State?.Text != update.Snapshot.State?.Text)
        {
            await ReportStopAsync(update, cancellationToken);
        }

        await CollectConnectionStringsAsync(cancellationToken);
        var allReady = model.Resources.Where(r => r is not ParameterResource && !_hidden.Contains(r.Name))
            .All(r => _latest.TryGetValue(r.Name, out var e) && IsReady(e.Snapshot, steps.Contains(r.Name)));
        WriteEndpointsFile(allReady);
        if (allReady && !_announced)
        {
            _announced = true;
            Announce();
        }
    }

    private static bool IsReady(CustomResourceSnapshot snapshot, bool isStep) => isStep
        ? snapshot.State?.Text == KnownResourceStates.Finished && snapshot.ExitCode == 0
        : snapshot.State?.Text == KnownResourceStates.Running && snapshot.HealthStatus is null or Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy;

    private static bool IsStop(CustomResourceSnapshot snapshot) =>
        snapshot.State?.Text == KnownResourceStates.FailedToStart
        || (snapshot.State?.Text is var state && (state == KnownResourceStates.Exited || state == KnownResourceStates.Finished) && snapshot.ExitCode is not (null or 0));

    private async Task ReportStopAsync(ResourceEvent update, CancellationToken cancellationToken)
    {
        var lines = new List<ConsoleLine>();
        await foreach (var batch in logs.GetAllAsync(update.Resource).WithCancellation(cancellationToken))
        {
            lines.AddRange(batch.Select(line => ConsoleLine.Parse(line.Content)));
        }

        var how = update.Snapshot.ExitCode is { } code ? $"exited with code {code}" : "failed to start";
        var last = lines.OrderBy(line => line.Time).TakeLast(LastLines).Select(line => line.Text); // stdout and stderr arrive apart
        logger.LogError("{Resource} {How}. Its last lines:\n  {Lines}", update.Resource.Name, how, string.Join("\n  ", last));
    }

    private async Task CollectConnectionStringsAsync(CancellationToken cancellationToken)
    {
        foreach (var resource in model.Resources.OfType<IResourceWithConnectionString>().Where(r => !_connectionStrings.ContainsKey(r.Name)))
        {
            if (_latest.TryGetValue(resource.Name, out var update) && update.Snapshot.State?.Text == KnownResourceStates.Running
                && await resource.GetConnectionStringAsync(cancellationToken) is { } connectionString)
            {
                _connectionStrings[resource.Name] = connectionString;
            }
        }
    }

    /// <summary>The file is private to this user: it holds credentials.</summary>
    private void WriteEndpointsFile(bool allReady)
    {
        var document = new JsonObject
        {
            ["allHealthy"] = allReady,
            ["dashboard"] = new JsonObject
            {
                ["url"] = dashboard.Url.ToString().TrimEnd('/'),
                ["loginUrl"] = dashboard.LoginUrl.ToString(),
                ["apiKey"] = dashboard.ApiKey,
            },
            ["resources"] = new JsonObject(_latest.Values.OrderBy(e => e.Resource.Name).Select(e => KeyValuePair.Create(e.Resource.Name, (JsonNode?)Describe(e.Snapshot)))),
            ["connectionStrings"] = new JsonObject(_connectionStrings.OrderBy(c => c.Key).Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value))),
        };
        Directory.CreateDirectory(data.Path);
        DataDirectory.WritePrivateFile(data.EndpointsFile, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static JsonObject Describe(CustomResourceSnapshot snapshot)
    {
        var started = snapshot.Properties.FirstOrDefault(p => p.Name == PidProperty)?.Value is int pid && snapshot.State?.Text == KnownResourceStates.Running
            ? ServiceProcess.Of(pid)
            : null;
        return new JsonObject
        {
            ["state"] = snapshot.State?.Text,
            ["health"] = snapshot.HealthStatus?.ToString(),
            ["exitCode"] = snapshot.ExitCode,
            ["pid"] = started,
            ["url"] = snapshot.Urls.FirstOrDefault(u => u.Name is not null && !u.IsInternal)?.Url,
            ["links"] = new JsonObject(snapshot.Urls.Where(u => u.Name is null)
                .Select(u => KeyValuePair.Create(u.DisplayProperties.DisplayName, (JsonNode?)u.Url))),
        };
    }

    private void Announce()
    {
        var rows = new List<(string Name, string Url)> { ("dashboard", dashboard.LoginUrl.ToString()) };
        foreach (var update in _latest.Values.OrderBy(e => e.Resource.Name))
        {
            rows.AddRange(update.Snapshot.Urls.Where(u => !u.IsInternal)
                .Select(u => (u.Name is null ? u.DisplayProperties.DisplayName : update.Resource.Name, u.Url)));
        }

        rows.Add(("endpoints", data.EndpointsFile));
        var width = rows.Max(r => r.Name.Length) + 2;
        var table = new StringBuilder();
        foreach (var (name, url) in rows)
        {
            table.Append(CultureInfo.InvariantCulture, $"\n  {name.PadRight(width)}{url}");
        }

        logger.LogInformation("All resources are healthy: Heimdex is running. Ctrl-C stops everything.{Table}", table.ToString());
    }
}
