using Heimdex.Conventions;
using Heimdex.Shared.Models;
using Microsoft.Extensions.Options;

namespace Heimdex.Api.Web;

/// <summary>
/// The web app people use: static pages from <c>wwwroot</c> at <c>/</c> (plain ES modules, no build step) and the tus
/// client they upload with, served from the model cache where the AppHost installed its pinned npm package.
/// </summary>
public static class WebApp
{
    public const string TusClientPath = "/vendor/tus.min.js";
    private const string TusClientFile = "package/dist/tus.min.js";

    /// <summary>Scripts, styles and media from this origin only: a title or snippet that slipped through as markup could not run.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' blob: data:; media-src 'self'; style-src 'self'; script-src 'self'; " +
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    /// <summary>What the web app needs that is not in the build: the tus client's package in the model cache.</summary>
    public static IEnumerable<string> FindProblems(ModelOptions options)
    {
        try
        {
            TusClientIn(options);
            return [];
        }
        catch (ModelMissingException missing)
        {
            return [missing.Message];
        }
    }

    private static string TusClientIn(ModelOptions options) => options.RequireFile(ModelPackage.TusClient, TusClientFile);

    /// <summary>Before authentication: the pages themselves hold nothing private; everything they show comes from the API.</summary>
    public static WebApplication UseWebApp(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.CacheControl = "no-cache";
            },
        });
        return app;
    }

    public static WebApplication MapWebApp(this WebApplication app)
    {
        app.MapGet(TusClientPath, (IOptions<ModelOptions> options, HttpResponse response) =>
            {
                response.Headers.CacheControl = "public, max-age=86400";
                return TypedResults.PhysicalFile(TusClientIn(options.Value), "text/javascript");
            })
            .AllowAnonymous().ExcludeFromDescription();
        app.MapGroup("/api/session").WithTags("Web sign-in").MapSessionApi();
        return app;
    }
}
