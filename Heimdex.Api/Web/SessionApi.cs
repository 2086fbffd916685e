using System.Security.Claims;
using Heimdex.Shared.Data;
using Heimdex.Shared.Users;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heimdex.Api.Web;

public sealed record SignInRequest(string ApiKey);

/// <summary>Who a browser session is signed in as; <c>SignedIn</c> false (and nothing else) before sign-in.</summary>
public sealed record SessionResponse(bool SignedIn, Guid? UserId = null, string? Name = null, bool IsAdmin = false);

/// <summary>
/// The web app's sign-in: the API key is checked once and kept in an HttpOnly, SameSite=Strict cookie that lasts as
/// long as the browser session, so the page never holds the key in a URL or in storage scripts can read.
/// </summary>
public static class SessionApi
{
    public const string CookieName = "heimdex_session";

    public static RouteGroupBuilder MapSessionApi(this RouteGroupBuilder session)
    {
        session.MapPost("", SignInAsync).AllowAnonymous()
            .WithName("SignIn").WithSummary("Sign a browser in with an API key")
            .WithDescription("Sets an HttpOnly, SameSite=Strict session cookie with the key. Requests with that cookie that " +
                             $"change data must also send `{ApiKeyAuthenticationOptions.PageRequestHeader}: {ApiKeyAuthenticationOptions.PageRequestValue}`.");
        session.MapGet("", Current).AllowAnonymous()
            .WithName("GetSession").WithSummary("Who this browser is signed in as");
        session.MapDelete("", SignOut).AllowAnonymous()
            .WithName("SignOut").WithSummary("Sign this browser out (removes the session cookie)");
        return session;
    }

    private static async Task<Results<Ok<SessionResponse>, ValidationProblem, ProblemHttpResult>> SignInAsync(
        SignInRequest request, HttpContext http, HeimdexDbContext db, CancellationToken cancellationToken)
    {
        var presented = request.ApiKey?.Trim();
        if (string.IsNullOrEmpty(presented))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["apiKey"] = ["apiKey is required"] });
        }

        if (await ApiKeyAuthenticationHandler.FindValidKeyAsync(db, presented, cancellationToken) is not { } key)
        {
            return TypedResults.Problem("That API key is not valid: check it, or ask your administrator for a new one.",
                statusCode: StatusCodes.Status401Unauthorized, title: "Sign-in failed");
        }

        http.Response.Cookies.Append(CookieName, presented, SessionCookie(http.Request));
        return TypedResults.Ok(new SessionResponse(true, key.UserId, key.User!.Name, key.User.IsAdmin));
    }

    private static Ok<SessionResponse> Current(ClaimsPrincipal user) =>
        TypedResults.Ok(user.Identity?.IsAuthenticated == true
            ? new SessionResponse(true, user.UserId(), user.Identity.Name, user.IsInRole(ApiKeyAuthenticationHandler.AdminPolicy))
            : new SessionResponse(false));

    private static NoContent SignOut(HttpContext http)
    {
        http.Response.Cookies.Delete(CookieName, SessionCookie(http.Request));
        return TypedResults.NoContent();
    }

    /// <summary>No expiry: the cookie lasts as long as the browser session.</summary>
    private static CookieOptions SessionCookie(HttpRequest request) =>
        new() { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = request.IsHttps, Path = "/", IsEssential = true };
}
