using System.Net.Http.Json;
using System.Text.Json;
using Heimdex.AppHost.Resources;

namespace Heimdex.Tests.AppHost;

/// <summary>A span or log record as the Aspire dashboard's telemetry API returns it (OTLP JSON), with the resource that sent it.</summary>
public sealed record TelemetryItem(string Resource, JsonElement Item)
{
    public string? Attribute(string key) => Item.TryGetProperty("attributes", out var attributes)
        ? attributes.EnumerateArray().Where(a => a.GetProperty("key").GetString() == key)
            .Select(a => a.GetProperty("value").EnumerateObject().First().Value.ToString()).FirstOrDefault()
        : null;

    public string Text(string property) => Item.TryGetProperty(property, out var value) ? value.ToString() : "";

    /// <summary>When a span started and ended, in nanoseconds since 1970 (OTLP's unit).</summary>
    public (long Start, long End) Interval => (long.Parse(Text("startTimeUnixNano"), System.Globalization.CultureInfo.InvariantCulture),
        long.Parse(Text("endTimeUnixNano"), System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>OTLP's status code: 0 unset, 1 ok, 2 error.</summary>
    public bool IsError => Item.TryGetProperty("status", out var status) && status.TryGetProperty("code", out var code)
                           && code.ToString() is "2" or "STATUS_CODE_ERROR";

    public IEnumerable<string> LinkedTraceIds => Item.TryGetProperty("links", out var links)
        ? links.EnumerateArray().Select(l => l.GetProperty("traceId").GetString()!)
        : [];

    public override string ToString() => $"{Resource}: {Text("name")} {Item}";
}

/// <summary>The dashboard's telemetry HTTP API (<c>/api/telemetry/*</c>, key in <c>x-api-key</c>).</summary>
public sealed class DashboardTelemetry(DashboardAddress dashboard)
{
    /// <summary>The most the API returns (the newest); its default is 200.</summary>
    private const int Limit = 10_000;

    public async Task<IReadOnlyList<TelemetryItem>> TraceAsync(string traceId) =>
        Items(await GetAsync($"/api/telemetry/traces/{traceId}"), "resourceSpans", "scopeSpans", "spans");

    public async Task<IReadOnlyList<TelemetryItem>> SpansAsync(string resource) =>
        Items(await GetAsync($"/api/telemetry/spans?resource={resource}&limit={Limit}"), "resourceSpans", "scopeSpans", "spans");

    public async Task<IReadOnlyList<TelemetryItem>> LogsAsync(string resource, string traceId) =>
        Items(await GetAsync($"/api/telemetry/logs?resource={resource}&traceId={traceId}&limit={Limit}"), "resourceLogs", "scopeLogs", "logRecords");

    private async Task<JsonElement?> GetAsync(string path)
    {
        using var http = new HttpClient { BaseAddress = dashboard.Url };
        http.DefaultRequestHeaders.Add("x-api-key", dashboard.ApiKey);
        using var response = await http.GetAsync(path, TestContext.Current.CancellationToken);
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken) : null;
    }

    private static List<TelemetryItem> Items(JsonElement? response, string resources, string scopes, string items)
    {
        if (response is not { } body || !body.TryGetProperty("data", out var data) || !data.TryGetProperty(resources, out var groups))
        {
            return [];
        }

        return [.. from resource in groups.EnumerateArray()
                   let name = new TelemetryItem("", resource.GetProperty("resource")).Attribute("service.name") ?? ""
                   from scope in resource.GetProperty(scopes).EnumerateArray()
                   from item in scope.GetProperty(items).EnumerateArray()
                   select new TelemetryItem(name, item)];
    }
}
