using Heimdex.Conventions;

namespace Heimdex.Shared.Users;

/// <summary>Someone who owns videos and people. Everything a user owns is invisible to every other user.</summary>
public sealed class User
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public required string Name { get; set; }

    public bool IsAdmin { get; set; }

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public List<ApiKey> ApiKeys { get; init; } = [];
}

/// <summary>
/// A bearer credential <c>hx_{Prefix}_{secret}</c>. Only the prefix (to find the row) and a SHA-256 of the secret are
/// stored; the secret is 256 random bits, so a fast hash is as safe as a slow one.
/// </summary>
public sealed class ApiKey
{
    /// <summary>What is stored of a new key: its prefix and the hash of its secret, never the secret.</summary>
    public static ApiKey From(ApiKeyCredential credential, Guid userId, string name) =>
        new() { UserId = userId, Prefix = credential.Prefix, SecretHash = credential.SecretHash, Name = name };

    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid UserId { get; init; }

    public User? User { get; init; }

    public required string Prefix { get; init; }

    public required byte[] SecretHash { get; init; }

    public required string Name { get; set; }

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public DateTimeOffset? RevokedAt { get; set; }
}
