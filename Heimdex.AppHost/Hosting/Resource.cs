namespace Heimdex.AppHost.Hosting;

public enum ResourceState
{
    Waiting,
    Starting,
    Healthy,
    /// <summary>A one-shot resource (the database migration) that ran to success.</summary>
    Finished,
    Unhealthy,
    Exited,
    Restarting,
    Failed,
    Stopping,
    Stopped,
}

/// <summary>A link shown in the endpoint table and written to endpoints.json.</summary>
public sealed record ResourceEndpoint(string Name, string Url);

/// <summary>Something a service can reference: it becomes <c>ConnectionStrings__{ConnectionName}</c> in that service.</summary>
public interface IResourceWithConnectionString
{
    string ConnectionName { get; }

    /// <summary>The process resource that must be healthy before the connection works.</summary>
    Resource Owner { get; }

    string ConnectionString { get; }
}

/// <summary>
/// One process in the graph. The <see cref="DistributedApplication"/> owns its lifecycle (start after its
/// dependencies are healthy, health polling, restart, stop); a resource only says how to prepare, run and probe it.
/// </summary>
public abstract class Resource(string name)
{
    public string Name { get; } = name;

    public List<Resource> Dependencies { get; } = [];

    public ResourceState State { get; internal set; } = ResourceState.Waiting;

    public int? ProcessId { get; internal set; }

    /// <summary>Programs this resource needs on the machine, provisioned before anything starts.</summary>
    public abstract IEnumerable<SystemRequirement> Requirements { get; }

    /// <summary>Model packages this resource needs in the model cache, installed before anything starts.</summary>
    public virtual IEnumerable<Heimdex.Shared.Models.ModelPackage> Models => [];

    public virtual IReadOnlyList<ResourceEndpoint> Endpoints => [];

    /// <summary>Services are restarted with backoff when they crash; a server that dies fails the run.</summary>
    public virtual bool RestartOnExit => false;

    /// <summary>Runs once to completion; dependents start after it exits with code 0.</summary>
    public virtual bool IsOneShot => false;

    /// <summary>Ready for dependents: healthy, or finished for a one-shot step.</summary>
    public bool IsReady => State is ResourceState.Healthy or ResourceState.Finished;

    /// <summary>The signal that stops the process cleanly and quickly.</summary>
    public virtual int StopSignal => ChildProcess.SigTerm;

    /// <summary>Creates data directories, configuration and ports; called before every start.</summary>
    public abstract Task<ProcessSpec> PrepareAsync(HostContext context, CancellationToken cancellationToken);

    public abstract Task<bool> IsHealthyAsync(CancellationToken cancellationToken);

    /// <summary>One-time set-up once the process first answers (a database, a bucket).</summary>
    public virtual Task OnHealthyAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public static class ResourceExtensions
{
    /// <summary>Starts <paramref name="resource"/> only once <paramref name="step"/> has run to success.</summary>
    public static T WaitForCompletion<T>(this T resource, Resource step) where T : Resource
    {
        resource.Dependencies.Add(step);
        return resource;
    }

    /// <summary>Starts <paramref name="resource"/> only once what serves <paramref name="dependency"/> is healthy.</summary>
    public static T WaitFor<T>(this T resource, IResourceWithConnectionString dependency) where T : Resource
    {
        resource.Dependencies.Add(dependency.Owner);
        return resource;
    }
}
