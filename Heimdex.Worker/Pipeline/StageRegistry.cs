using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Videos;

namespace Heimdex.Worker.Pipeline;

/// <summary>
/// The pipeline as a graph: each stage with the stages it needs. A stage runs as soon as those have succeeded (or
/// been skipped), so stages that do not need each other run at once, each as its own Hangfire job.
/// </summary>
public sealed class StageRegistry
{
    private readonly List<(string Name, Type Type, string[] After)> _stages = [];

    /// <summary>Every stage, each after the stages it needs: the order the API lists them in.</summary>
    public IReadOnlyList<string> Names => _stages.Select(s => s.Name).ToList();

    public IReadOnlyList<Type> Types => _stages.Select(s => s.Type).ToList();

    public void Add(string name, Type type, string[] after)
    {
        if (after.FirstOrDefault(needed => _stages.All(s => s.Name != needed)) is { } unknown)
        {
            throw new ArgumentException($"Stage '{name}' needs '{unknown}', which is not added before it.", nameof(after));
        }

        if (after.Length == 0 && _stages.Count > 0)
        {
            throw new ArgumentException($"Stage '{name}' needs no other stage; only the first stage may start the pipeline.", nameof(after));
        }

        _stages.Add((name, type, after));
    }

    public Type TypeOf(string name) => Find(name).Type;

    public IReadOnlyList<string> Needs(string name) => Find(name).After;

    /// <summary>The stage and every stage that needs it, directly or through others: what redoing it redoes.</summary>
    public IReadOnlySet<string> WithDependents(string name)
    {
        var stages = new HashSet<string> { Find(name).Name };
        foreach (var stage in _stages.Where(stage => stage.After.Any(stages.Contains)))
        {
            stages.Add(stage.Name); // registration order lists a stage after all it needs, so one pass suffices
        }

        return stages;
    }

    /// <summary>Stages of a processing video that wait for nothing but a job: pending, with everything they need done.</summary>
    public IEnumerable<StageRun> Ready(Video video) =>
        video.State != VideoState.Processing
            ? []
            : video.Stages.Where(run => run.State == StageState.Pending && UnfinishedNeed(video, run.Stage) is null);

    /// <summary>A stage this one needs that has not succeeded, or null when it may run.</summary>
    public string? UnfinishedNeed(Video video, string name) =>
        Needs(name).FirstOrDefault(needed => !video.Stage(needed).IsDone);

    private (string Name, Type Type, string[] After) Find(string name) =>
        _stages.FirstOrDefault(s => s.Name == name) is { Name: not null } stage
            ? stage
            : throw new ArgumentException($"Unknown stage '{name}'. Stages: {string.Join(", ", Names)}.", nameof(name));
}

public static class StageRegistration
{
    /// <summary>Adds a stage that runs once every stage in <paramref name="after"/> has succeeded (the first stage needs none).</summary>
    public static IServiceCollection AddStage<TStage>(this IServiceCollection services, params string[] after) where TStage : class, IPipelineStage
    {
        services.AddScoped<TStage>();
        var registry = services.Select(d => d.ImplementationInstance).OfType<StageRegistry>().SingleOrDefault();
        if (registry is null)
        {
            registry = new StageRegistry();
            services.AddSingleton(registry);
        }

        registry.Add(TStage.StageName, typeof(TStage), after);
        return services;
    }
}
