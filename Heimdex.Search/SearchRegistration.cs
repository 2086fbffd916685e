using Heimdex.Search.Indexes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Heimdex.Search;

public static class SearchRegistration
{
    /// <summary>
    /// Scene search in a process that answers it: its options, the common words, the vector indexes, their loader (a
    /// hosted service and the "search-index" health check) and <see cref="SceneSearch"/>. Needs the database, Redis
    /// and the sentence and face models registered.
    /// </summary>
    public static IHostApplicationBuilder AddSceneSearch(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SearchOptions>().BindConfiguration(SearchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<CommonWords>();
        services.AddSingleton<SceneIndexes>();
        services.AddSingleton<SceneIndexLoader>();
        services.AddHostedService(provider => provider.GetRequiredService<SceneIndexLoader>());
        services.AddHealthChecks().AddCheck<SceneIndexLoader>("search-index");
        services.AddScoped<SceneSearch>();
        return builder;
    }
}
