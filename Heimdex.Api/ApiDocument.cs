using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Heimdex.Api;

/// <summary>Describes the API as a whole: what it is and how every request authenticates.</summary>
public sealed class ApiDocument : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Heimdex API";
        document.Info.Description = "Upload videos, follow their indexing, search their scenes. Every /api route needs " +
                                    "`Authorization: Bearer <api key>`; the AppHost prints the administrator's key on first run.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["ApiKey"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A Heimdex API key, hx_<prefix>_<secret>.",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiKey", document)] = [] });
        return Task.CompletedTask;
    }
}
