namespace Heimdex.Conventions;

/// <summary>Paths the services serve that others link to or probe: the AppHost, the dashboard, tests.</summary>
public static class ServiceEndpoints
{
    /// <summary>Readiness: the service and every server it depends on answer.</summary>
    public const string Health = "/health";

    /// <summary>Liveness: the process itself answers.</summary>
    public const string Alive = "/alive";

    public const string OpenApiDocument = "/openapi/v1.json";
    public const string Scalar = "/scalar";
    public const string HangfireDashboard = "/hangfire";
}
