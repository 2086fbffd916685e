namespace Heimdex.Shared.People;

/// <summary>Someone to find in videos, known from reference photos.</summary>
public sealed class Person
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid OwnerId { get; init; }

    public required string Name { get; set; }

    /// <summary>What faces in scenes are compared with, made from the ready photos' face embeddings.</summary>
    public float[]? Embedding { get; set; }

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public List<PersonPhoto> Photos { get; init; } = [];
}

public enum PhotoState
{
    Uploaded,
    Processing,
    Ready,
    Failed,
}

/// <summary>A reference photo; it ends <c>Ready</c> with the subject's face embedding or <c>Failed</c> with the reason.</summary>
public sealed class PersonPhoto
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid PersonId { get; init; }

    public required string ContentType { get; init; }

    public PhotoState State { get; set; } = PhotoState.Uploaded;

    /// <summary>Why the photo failed, in words a person can act on.</summary>
    public string? Error { get; set; }

    /// <summary>Processing runs so far; the last allowed one that fails for a passing reason fails the photo.</summary>
    public int Attempts { get; set; }

    public float[]? FaceEmbedding { get; set; }

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
}
