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

public sealed class PersonPhoto
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid PersonId { get; init; }

    public required string ContentType { get; init; }

    public PhotoState State { get; set; } = PhotoState.Uploaded;

    public string? Error { get; set; }

    public float[]? FaceEmbedding { get; set; }

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
}
