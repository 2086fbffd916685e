namespace Heimdex.Conventions;

/// <summary>The AppHost's resource names for Heimdex's own services, which tests and scripts address them by.</summary>
public static class ServiceNames
{
    public const string Api = "api";
    public const string Worker = "worker";

    /// <summary><paramref name="service"/> for the first replica, then <c>service-2</c>, <c>service-3</c>, …</summary>
    public static IEnumerable<string> Replicas(string service, int count) =>
        Enumerable.Range(1, count).Select(replica => replica == 1 ? service : $"{service}-{replica}");

    /// <summary>Whether <paramref name="resource"/> is one of <see cref="Replicas"/> of <paramref name="service"/>.</summary>
    public static bool IsReplicaOf(string resource, string service) =>
        resource == service || resource.StartsWith(service + "-", StringComparison.Ordinal);
}
