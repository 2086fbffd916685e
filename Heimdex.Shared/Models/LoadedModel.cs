using Microsoft.Extensions.DependencyInjection;

namespace Heimdex.Shared.Models;

/// <summary>
/// A model loaded once per worker process: at the start-up self-check, which turns a failure to load into a
/// problem in words, or at first use.
/// </summary>
public sealed class LoadedModel<T>(Func<T> load) where T : class
{
    private readonly Lazy<T> _model = new(load, LazyThreadSafetyMode.ExecutionAndPublication);

    public T Value => _model.Value;

    public IEnumerable<string> FindProblems()
    {
        try
        {
            _ = _model.Value;
            return [];
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // Whatever stops a model from loading (a missing file, a missing library, a corrupt download) is the problem to report.
            return [error.Message];
        }
    }
}

public static class LoadedModelRegistration
{
    public static IServiceCollection AddLoadedModel<T>(this IServiceCollection services, Func<IServiceProvider, T> load) where T : class =>
        services.AddSingleton(provider => new LoadedModel<T>(() => load(provider)));
}
