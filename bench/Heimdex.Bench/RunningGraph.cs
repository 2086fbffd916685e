using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Heimdex.Bench;

/// <summary>The graph the AppHost started, as its data directory describes it: the API's address and process, connection strings, the administrator's key.</summary>
public sealed record RunningGraph(Uri Api, int ApiPid, JsonElement ConnectionStrings, string AdminKey)
{
    public static async Task<RunningGraph> LoadAsync(string dataDirectory)
    {
        var endpoints = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dataDirectory, "endpoints.json"))).RootElement;
        var api = endpoints.GetProperty("resources").GetProperty("api");
        return new RunningGraph(new Uri(api.GetProperty("url").GetString()!), api.GetProperty("pid").GetInt32(),
            endpoints.GetProperty("connectionStrings"), (await File.ReadAllTextAsync(Path.Combine(dataDirectory, "admin.key"))).Trim());
    }

    /// <summary>The graph once the AppHost runs an API process other than <paramref name="previousPid"/> (after a crash, a restart).</summary>
    public static async Task<RunningGraph> WaitForApiRestartAsync(string dataDirectory, int previousPid)
    {
        while (true)
        {
            var api = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dataDirectory, "endpoints.json"))).RootElement
                .GetProperty("resources").GetProperty("api");
            if (api.GetProperty("pid") is { ValueKind: JsonValueKind.Number } pid && pid.GetInt32() != previousPid
                && api.GetProperty("url").ValueKind == JsonValueKind.String)
            {
                return await LoadAsync(dataDirectory);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }

    public string ConnectionString(string name) => ConnectionStrings.GetProperty(name).GetString()!;

    /// <summary>A user of the benchmark's own, named <paramref name="prefix"/> and the time, with its API key.</summary>
    public async Task<(Guid Id, string Key)> CreateUserAsync(string prefix)
    {
        using var admin = Client(AdminKey);
        using var created = await admin.PostAsJsonAsync("/api/users", new { name = $"{prefix}-{DateTime.UtcNow:yyyyMMddHHmmss}" });
        var key = (await created.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key");
        return (key.GetProperty("userId").GetGuid(), key.GetProperty("key").GetString()!);
    }

    public HttpClient Client(string apiKey) =>
        new() { BaseAddress = Api, Timeout = Timeout.InfiniteTimeSpan, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", apiKey) } };

    /// <summary>The API process's resident memory now, from /proc.</summary>
    public double ApiResidentMiB() => ApiMemoryMiB("VmRSS:");

    /// <summary>
    /// The part of <see cref="ApiResidentMiB"/> that is the API's own (anonymous: heaps, stacks, native allocations),
    /// not pages of files it maps (its libraries, the float vectors it reads), which are page cache.
    /// </summary>
    public double ApiAnonymousMiB() => ApiMemoryMiB("RssAnon:");

    private double ApiMemoryMiB(string field)
    {
        var line = File.ReadLines($"/proc/{ApiPid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
