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

    public PhotoState State { get; private set; } = PhotoState.Uploaded;

    /// <summary>Why the photo failed, or why its last attempt did, in words a person can act on.</summary>
    public string? Error { get; private set; }

    /// <summary>Processing runs so far, counted here only; the last allowed one that fails for a passing reason fails the photo.</summary>
    public int Attempts { get; private set; }

    public float[]? FaceEmbedding { get; private set; }

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;

    // The photo's state changes only here: uploaded → processing → ready or failed, back to uploaded for a retry.

    public void StartAttempt(DateTimeOffset now) => (State, Error, Attempts, UpdatedAt) = (PhotoState.Processing, null, Attempts + 1, now);

    public void Accept(float[] faceEmbedding, DateTimeOffset now) => (State, Error, FaceEmbedding, UpdatedAt) = (PhotoState.Ready, null, faceEmbedding, now);

    public void Reject(string reason, DateTimeOffset now) => (State, Error, FaceEmbedding, UpdatedAt) = (PhotoState.Failed, reason, null, now);

    /// <summary>The attempt failed for a passing reason: the photo waits for its next attempt.</summary>
    public void RetryLater(string reason, DateTimeOffset now) =>
        (State, Error, UpdatedAt) = (PhotoState.Uploaded, $"attempt {Attempts} failed: {reason}; retrying", now);

    /// <summary>
    /// A photo still unfinished after its last attempt stopped the worker during every attempt (a crash, a kill for
    /// memory): it fails with that reason instead of being tried again, which would stop the worker, and everyone's
    /// stages on it, once more.
    /// </summary>
    public bool GiveUpIfAttemptsSpent(int maxAttempts, DateTimeOffset now)
    {
        if (Attempts < maxAttempts || State is PhotoState.Ready or PhotoState.Failed)
        {
            return false;
        }

        Reject($"processing it stopped the worker {Attempts} times (it crashed or was killed while reading the photo); it is not tried again", now);
        return true;
    }
}
