using Heimdex.Conventions;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Heimdex.Shared.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Heimdex.Shared.Users;

public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>Where a browser page needs the key (the Hangfire dashboard): only under it is Basic accepted and offered.</summary>
    public PathString? BasicAuthenticationPath { get; set; }

    /// <summary>
    /// The web app's sign-in: the key kept in this HttpOnly, SameSite=Strict session cookie, so that a page's images,
    /// video and subtitles (which cannot carry a header) load, and the key is never in a URL nor readable by scripts.
    /// </summary>
    public string? SessionCookieName { get; set; }

    /// <summary>
    /// A request authenticated by the session cookie that changes anything must carry this header (value
    /// <see cref="PageRequestValue"/>): another site's form cannot set it, so the cookie alone never changes data.
    /// </summary>
    public const string PageRequestHeader = "X-Requested-With";

    public const string PageRequestValue = "heimdex";
}

/// <summary>
/// <c>Authorization: Bearer hx_…</c>. Under <see cref="ApiKeyAuthenticationOptions.BasicAuthenticationPath"/> alone, where
/// browsers cannot send a bearer token, the key may come as a Basic password instead (any user name), and a challenge
/// offers both; elsewhere a Basic header is no credential, so browsers never cache the key for the API.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder, HeimdexDbContext db)
    : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string AdminPolicy = "admin";

    /// <summary>The claim naming the API key a request was made with.</summary>
    public const string KeyIdClaim = "heimdex:key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        string? presented;
        if (!string.IsNullOrEmpty(header))
        {
            presented = KeyFrom(header);
        }
        else if (Options.SessionCookieName is { } cookie && Request.Cookies[cookie] is { Length: > 0 } sessionKey)
        {
            if (!HttpMethods.IsGet(Request.Method) && !HttpMethods.IsHead(Request.Method)
                && Request.Headers[ApiKeyAuthenticationOptions.PageRequestHeader] != ApiKeyAuthenticationOptions.PageRequestValue)
            {
                return AuthenticateResult.Fail(
                    $"A signed-in page's request that changes data carries {ApiKeyAuthenticationOptions.PageRequestHeader}: {ApiKeyAuthenticationOptions.PageRequestValue}.");
            }

            presented = sessionKey;
        }
        else
        {
            return AuthenticateResult.NoResult();
        }

        if (!ApiKeyCredential.TryParse(presented, out _))
        {
            return AuthenticateResult.Fail("The credential presented is not a Heimdex API key.");
        }

        return await FindValidKeyAsync(db, presented, Context.RequestAborted) is { } key
            ? AuthenticateResult.Success(new AuthenticationTicket(PrincipalFor(key), SchemeName))
            : AuthenticateResult.Fail("The API key is not valid.");
    }

    /// <summary>The stored key a presented key text names, if it is well-formed, matches its secret and is not revoked.</summary>
    public static async Task<ApiKey?> FindValidKeyAsync(HeimdexDbContext db, string? presented, CancellationToken cancellationToken)
    {
        if (!ApiKeyCredential.TryParse(presented, out var credential))
        {
            return null;
        }

        var key = await db.ApiKeys.AsNoTracking().Include(k => k.User)
            .FirstOrDefaultAsync(k => k.Prefix == credential.Prefix, cancellationToken);
        return key?.User is null || key.RevokedAt is not null || !credential.Matches(key.SecretHash) ? null : key;
    }

    private static ClaimsPrincipal PrincipalFor(ApiKey key)
    {
        List<Claim> claims = [new(ClaimTypes.NameIdentifier, key.UserId.ToString()), new(ClaimTypes.Name, key.User!.Name), new(KeyIdClaim, key.Id.ToString())];
        if (key.User.IsAdmin)
        {
            claims.Add(new Claim(ClaimTypes.Role, AdminPolicy));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
    }

    private bool BasicAllowed => Options.BasicAuthenticationPath is { } path && Request.Path.StartsWithSegments(path);

    private string? KeyFrom(string header)
    {
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        if (BasicAllowed && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                return decoded[(decoded.IndexOf(':', StringComparison.Ordinal) + 1)..];
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = BasicAllowed ? "Bearer realm=\"Heimdex\", Basic realm=\"Heimdex\"" : "Bearer realm=\"Heimdex\"";
        return Task.CompletedTask;
    }
}

public static class ApiKeyAuthenticationRegistration
{
    /// <summary>Every endpoint requires a valid key unless it opts out; the admin policy needs an administrator's key.</summary>
    /// <param name="configure">Where else than the Authorization header a key may come from (Basic under a path, a session cookie).</param>
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services, Action<ApiKeyAuthenticationOptions>? configure = null)
    {
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, options => configure?.Invoke(options));
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(ApiKeyAuthenticationHandler.AdminPolicy, policy => policy.RequireRole(ApiKeyAuthenticationHandler.AdminPolicy));
        return services;
    }

    public static Guid? ApiKeyId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim), out var id) ? id : null;

    public static Guid UserId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("No authenticated user."));
}
