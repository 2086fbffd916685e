using System.Text.Json;
using Heimdex.Shared.Models;
using Microsoft.Extensions.Configuration;

namespace Heimdex.Tests.Search;

/// <summary>
/// The API process is set up for many small searches on cores it shares: each model run on one thread, and idle
/// thread-pool threads sleeping instead of spinning.
/// </summary>
public sealed class ApiHostingTests
{
    [Fact]
    public void The_api_runs_its_models_on_one_thread_per_run()
    {
        var api = new ConfigurationBuilder().AddJsonFile(Path.Combine(TestFiles.RepositoryRoot, "Heimdex.Api", "appsettings.json")).Build();

        Assert.Equal(1, api.GetSection(ModelOptions.Section).Get<ModelOptions>()?.ThreadsPerRun);
    }

    [Fact]
    public void The_apis_idle_thread_pool_threads_sleep_instead_of_spinning()
    {
        // The API's build output, as this project references it, holds the runtime settings its process starts with.
        using var runtime = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Heimdex.Api.runtimeconfig.json")));

        var settings = runtime.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(0, settings.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }
}
