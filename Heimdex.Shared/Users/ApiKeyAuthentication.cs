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

/// <summary>
/// <c>Authorization: Bearer hx_…</c>. Browsers, which cannot send a bearer token to the Hangfire dashboard, may send the
/// key as a Basic password instead (any user name); a challenge offers both.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, HeimdexDbContext db)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string AdminPolicy = "admin";

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

        List<Claim> claims = [new(ClaimTypes.NameIdentifier, key.UserId.ToString()), new(ClaimTypes.Name, key.User.Name)];
        if (key.User.IsAdmin)
        {
            claims.Add(new Claim(ClaimTypes.Role, AdminPolicy));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
    }

    private static string? KeyFrom(string header)
    {
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
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
        Response.Headers.WWWAuthenticate = "Bearer realm=\"Heimdex\", Basic realm=\"Heimdex\"";
        return Task.CompletedTask;
    }
}

public static class ApiKeyAuthenticationRegistration
{
    /// <summary>Every endpoint requires a valid key unless it opts out; the admin policy needs an administrator's key.</summary>
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(ApiKeyAuthenticationHandler.AdminPolicy, policy => policy.RequireRole(ApiKeyAuthenticationHandler.AdminPolicy));
        return services;
    }

    public static Guid UserId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("No authenticated user."));
}
