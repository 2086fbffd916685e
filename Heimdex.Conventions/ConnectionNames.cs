namespace Heimdex.Conventions;

/// <summary>
/// The names under which the AppHost (or an operator) hands each service its connections, as
/// <c>ConnectionStrings__&lt;name&gt;</c> environment variables — Aspire's convention.
/// </summary>
public static class ConnectionNames
{
    public const string Database = "heimdex";
    public const string Redis = "redis";
    public const string Storage = "storage";
}

/// <summary>Exit codes the services and the AppHost agree on.</summary>
public static class ServiceExitCodes
{
    /// <summary>The service found its configuration or environment unusable; restarting it cannot help (sysexits' EX_CONFIG).</summary>
    public const int Misconfigured = 78;
}

/// <summary>The one-shot step the AppHost runs before the API and worker: the API's assembly with this command.</summary>
public static class MigrationStep
{
    public const string Command = "migrate";

    /// <summary>The administrator's API key, which the step registers if the database does not know it yet.</summary>
    public const string AdminKeyVariable = "Heimdex__AdminApiKey";
}

/// <summary>The name of Heimdex's own traces and metrics (its ActivitySource and Meter).</summary>
public static class TelemetryNames
{
    public const string Source = "Heimdex";
}

/// <summary>
/// How the AppHost runs S3 storage, in MinIO's terms: a <c>minio</c> binary and Heimdex's development server take the
/// same credential variables and answer the same liveness probe.
/// </summary>
public static class StorageServer
{
    public const string AccessKeyVariable = "MINIO_ROOT_USER";
    public const string SecretKeyVariable = "MINIO_ROOT_PASSWORD";
    public const string LivenessPath = "/minio/health/live";
}
