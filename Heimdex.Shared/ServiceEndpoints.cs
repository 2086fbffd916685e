namespace Heimdex.Shared;

/// <summary>Paths the services serve that others (the AppHost's endpoint table, tests) link to.</summary>
public static class ServiceEndpoints
{
    public const string OpenApiDocument = "/openapi/v1.json";
    public const string Scalar = "/scalar";
    public const string HangfireDashboard = "/hangfire";
}
