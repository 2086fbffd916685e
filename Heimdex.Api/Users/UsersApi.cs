using System.Security.Claims;
using Heimdex.Conventions;
using Heimdex.Shared.Data;
using Heimdex.Shared.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Api.Users;

public sealed record CreateUserRequest(string Name, bool IsAdmin = false);

public sealed record CreateKeyRequest(Guid UserId, string Name);

public sealed record UserResponse(Guid Id, string Name, bool IsAdmin, DateTimeOffset CreatedAt);

/// <summary>The key's full text appears in this response only; Heimdex keeps just a hash of its secret.</summary>
public sealed record KeyResponse(Guid Id, Guid UserId, string Name, string Prefix, string Key);

public sealed record CreatedUserResponse(UserResponse User, KeyResponse Key);

public sealed record KeySummary(Guid Id, Guid UserId, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>Administration: users and their API keys. Administrators only.</summary>
public static class UsersApi
{
    public static RouteGroupBuilder MapUsersApi(this RouteGroupBuilder users)
    {
        users.MapPost("", CreateUserAsync)
            .WithName("CreateUser")
            .WithSummary("Create a user, with a first API key")
            .WithDescription("Administrators only. The key is shown in this response and never again.");
        return users;
    }

    public static RouteGroupBuilder MapKeysApi(this RouteGroupBuilder keys)
    {
        keys.MapPost("", CreateKeyAsync)
            .WithName("CreateKey")
            .WithSummary("Create another API key for a user")
            .WithDescription("Administrators only. The key is shown in this response and never again.");
        keys.MapGet("", ListKeysAsync)
            .WithName("ListKeys")
            .WithSummary("List API keys, of everyone or of one user (`userId`)")
            .WithDescription("Administrators only. Names, prefixes and when each was made or revoked; never a secret.");
        keys.MapDelete("{id:guid}", RevokeKeyAsync)
            .WithName("RevokeKey")
            .WithSummary("Revoke an API key")
            .WithDescription("Administrators only. The key stops working at once and stays listed as revoked. " +
                             "The key making the request cannot revoke itself (409), so an administrator is not locked out by mistake.");
        return keys;
    }

    private static ValidationProblem? NameProblem(string? name) => string.IsNullOrWhiteSpace(name) || name.Length > 200
        ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["A name of 1 to 200 characters is required."] })
        : null;

    private static async Task<Results<Created<CreatedUserResponse>, ValidationProblem>> CreateUserAsync(
        CreateUserRequest request, HeimdexDbContext db, CancellationToken cancellationToken)
    {
        if (NameProblem(request.Name) is { } problem)
        {
            return problem;
        }

        var user = new User { Name = request.Name.Trim(), IsAdmin = request.IsAdmin };
        var credential = ApiKeyCredential.Generate();
        var key = ApiKey.From(credential, user.Id, "first key");
        db.Users.Add(user);
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/users/{user.Id}", new CreatedUserResponse(
            new UserResponse(user.Id, user.Name, user.IsAdmin, user.CreatedAt),
            new KeyResponse(key.Id, user.Id, key.Name, key.Prefix, credential.ToString())));
    }

    private static async Task<Ok<List<KeySummary>>> ListKeysAsync(HeimdexDbContext db, CancellationToken cancellationToken, Guid? userId = null) =>
        TypedResults.Ok(await db.ApiKeys.AsNoTracking().Where(k => userId == null || k.UserId == userId).OrderBy(k => k.CreatedAt)
            .Select(k => new KeySummary(k.Id, k.UserId, k.Name, k.Prefix, k.CreatedAt, k.RevokedAt)).ToListAsync(cancellationToken));

    private static async Task<Results<NoContent, NotFound, ProblemHttpResult>> RevokeKeyAsync(
        Guid id, ClaimsPrincipal caller, HeimdexDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id, cancellationToken);
        if (key is null)
        {
            return TypedResults.NotFound();
        }

        if (caller.ApiKeyId() == key.Id)
        {
            return TypedResults.Problem("This is the key this request was made with; revoke it with another administrator's key.",
                statusCode: StatusCodes.Status409Conflict, title: "A key cannot revoke itself");
        }

        key.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Created<KeyResponse>, ValidationProblem, NotFound>> CreateKeyAsync(
        CreateKeyRequest request, HeimdexDbContext db, CancellationToken cancellationToken)
    {
        if (NameProblem(request.Name) is { } problem)
        {
            return problem;
        }

        if (!await db.Users.AnyAsync(u => u.Id == request.UserId, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var credential = ApiKeyCredential.Generate();
        var key = ApiKey.From(credential, request.UserId, request.Name.Trim());
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/keys/{key.Id}", new KeyResponse(key.Id, key.UserId, key.Name, key.Prefix, credential.ToString()));
    }
}
