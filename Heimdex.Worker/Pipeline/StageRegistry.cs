namespace Heimdex.Worker.Pipeline;

/// <summary>The pipeline's stages in the order they run; registering a stage is one line in Program.cs.</summary>
public sealed class StageRegistry
{
    private readonly List<(string Name, Type Type)> _stages = [];

    public IReadOnlyList<string> Names => _stages.Select(s => s.Name).ToList();

    public IReadOnlyList<Type> Types => _stages.Select(s => s.Type).ToList();

    public void Add(string name, Type type) => _stages.Add((name, type));

    public Type TypeOf(string name) =>
        _stages.FirstOrDefault(s => s.Name == name).Type
        ?? throw new ArgumentException($"Unknown stage '{name}'. Stages: {string.Join(", ", Names)}.", nameof(name));

    public string? After(string name) => Names.SkipWhile(n => n != name).Skip(1).FirstOrDefault();
}

public static class StageRegistration
{
    /// <summary>Appends a stage to the pipeline.</summary>
    public static IServiceCollection AddStage<TStage>(this IServiceCollection services) where TStage : class, IPipelineStage
    {
        services.AddScoped<TStage>();
        var registry = services.Select(d => d.ImplementationInstance).OfType<StageRegistry>().SingleOrDefault();
        if (registry is null)
        {
            registry = new StageRegistry();
            services.AddSingleton(registry);
        }

        registry.Add(TStage.StageName, typeof(TStage));
        return services;
    }
}
