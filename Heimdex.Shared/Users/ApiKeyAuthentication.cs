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
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }

        if (!ApiKeyCredential.TryParse(KeyFrom(header), out var credential))
        {
            return AuthenticateResult.Fail("The Authorization header does not carry a Heimdex API key.");
        }

        var key = await db.ApiKeys.AsNoTracking().Include(k => k.User)
            .FirstOrDefaultAsync(k => k.Prefix == credential.Prefix, Context.RequestAborted);
        if (key?.User is null || key.RevokedAt is not null || !credential.Matches(key.SecretHash))
        {
            return AuthenticateResult.Fail("The API key is not valid.");
        }

        List<Claim> claims = [new(ClaimTypes.NameIdentifier, key.UserId.ToString()), new(ClaimTypes.Name, key.User.Name), new(KeyIdClaim, key.Id.ToString())];
        if (key.User.IsAdmin)
        {
            claims.Add(new Claim(ClaimTypes.Role, AdminPolicy));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
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
    /// <param name="basicAuthenticationPath">The browser page, if any, where the key may come as a Basic password.</param>
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services, PathString? basicAuthenticationPath = null)
    {
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName,
                options => options.BasicAuthenticationPath = basicAuthenticationPath);
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
