namespace Heimdex.Shared.Videos;

public enum VideoState
{
    /// <summary>Stored and waiting for the pipeline.</summary>
    Uploaded,
    Processing,
    Indexed,
    Failed,
}

/// <summary>An uploaded video: what the user told us, what we measured, and where the pipeline stands.</summary>
public sealed class Video
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid OwnerId { get; init; }

    public const int MaxTitleLength = 500;

    public required string Title { get; set; }

    public string? Description { get; set; }

    /// <summary>Sanitised; shown to people, never used in a storage key.</summary>
    public required string OriginalFileName { get; set; }

    public long SizeBytes { get; set; }

    /// <summary>Decided from the file's first bytes, not from what the client claimed.</summary>
    public required string ContentType { get; set; }

    public string? Sha256 { get; set; }

    public double? DurationSeconds { get; set; }

    public int? Width { get; set; }

    public int? Height { get; set; }

    public double? FrameRate { get; set; }

    public string? VideoCodec { get; set; }

    public string? AudioCodec { get; set; }

    public VideoState State { get; private set; } = VideoState.Uploaded;

    /// <summary>Why the video failed, in words a person can act on.</summary>
    public string? Error { get; private set; }

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// The W3C trace context of the request that uploaded the video: its pipeline runs in that trace, and a
    /// reprocess or a watchdog's re-enqueue, which start traces of their own, link back to it.
    /// </summary>
    public string? TraceParent { get; set; }

    public List<Pipeline.StageRun> Stages { get; init; } = [];

    /// <summary>The run of the named stage.</summary>
    public Pipeline.StageRun Stage(string name) => Stages.Single(s => s.Stage == name);

    // The video's state follows its stages: these are the only ways either changes (see StageRun for the stages' table).

    /// <summary>A reprocess or resume was asked for: the video is processing again, its last failure forgotten.</summary>
    public void Requeue(DateTimeOffset now) => (State, Error, UpdatedAt) = (VideoState.Processing, null, now);

    /// <summary>
    /// Resumes the pipeline: the stages in <paramref name="redo"/> and every failed one start over; the video is
    /// indexed if nothing is left to do, processing otherwise.
    /// </summary>
    public void Resume(IReadOnlySet<string> redo, DateTimeOffset now)
    {
        // A stage that started meanwhile finishes what it began; its result stands.
        foreach (var run in Stages.Where(s => (s.State == Pipeline.StageState.Failed || redo.Contains(s.Stage)) && s.State != Pipeline.StageState.Running))
        {
            run.Reset();
        }

        (State, Error, UpdatedAt) = (Stages.All(s => s.IsDone) ? VideoState.Indexed : VideoState.Processing, null, now);
    }

    public void StartStage(Pipeline.StageRun run, string? jobId, DateTimeOffset now)
    {
        run.Start(jobId, now);
        (State, Error, UpdatedAt) = (VideoState.Processing, null, now);
    }

    /// <summary>The stage succeeded (or had nothing to do: <paramref name="skipReason"/>); the last one to finish makes the video indexed.</summary>
    public void FinishStage(Pipeline.StageRun run, string? skipReason, IReadOnlyList<string> outputKeys, DateTimeOffset now)
    {
        if (skipReason is null)
        {
            run.Succeed(outputKeys, now);
        }
        else
        {
            run.Skip(skipReason, now);
        }

        UpdatedAt = now;
        if (State == VideoState.Processing && Stages.All(s => s.IsDone))
        {
            State = VideoState.Indexed;
        }
    }

    /// <summary>The stage failed for good, and with it the video, naming the stage and the reason (the first failure's, if another branch failed first).</summary>
    public void FailStage(Pipeline.StageRun run, string reason, DateTimeOffset now, bool disownJob = false)
    {
        run.Fail(reason, now, disownJob);
        if (State != VideoState.Failed)
        {
            (State, Error) = (VideoState.Failed, $"{run.Stage}: {reason}");
        }

        UpdatedAt = now;
    }

    public List<Scene> Scenes { get; init; } = [];
}

/// <summary>A shot of a video, from one cut to the next.</summary>
public sealed class Scene
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid VideoId { get; init; }

    /// <summary>The video's owner, kept on the scene so text search reads one owner's scenes from an index that starts with it.</summary>
    public required Guid OwnerId { get; init; }

    public int Index { get; init; }

    public double StartSeconds { get; init; }

    public double EndSeconds { get; init; }

    public int StartFrame { get; init; }

    public int EndFrame { get; init; }

    public string? KeyframeKey { get; set; }

    public string? ThumbnailKey { get; set; }

    /// <summary>What is shown and said during the scene, as searched by trigram similarity (typos) and shown in snippets.</summary>
    public string? SearchText { get; set; }

    /// <summary>Full-text document: the video's title (weight A), <see cref="SearchText"/> (B) and description (C), English-stemmed.</summary>
    public NpgsqlTypes.NpgsqlTsVector? Document { get; set; }
}

/// <summary>A stretch of recognised speech.</summary>
public sealed class TranscriptSegment
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid VideoId { get; init; }

    public int Index { get; init; }

    public double StartSeconds { get; init; }

    public double EndSeconds { get; init; }

    public required string Text { get; init; }

    public double Confidence { get; init; }
}

/// <summary>A line of text read on screen: stored once for as long as it stays shown, across scenes.</summary>
public sealed class OnScreenText
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid VideoId { get; init; }

    /// <summary>The first scene that shows the text.</summary>
    public Guid SceneId { get; init; }

    /// <summary>From the change of picture that brought the text to the one that took it away (to within a sample, 0.5 s).</summary>
    public double StartSeconds { get; init; }

    public double EndSeconds { get; init; }

    public required string Text { get; init; }

    public double Confidence { get; init; }
}

/// <summary>A face found on a scene's keyframe, with the embedding people are matched by.</summary>
public sealed class Face
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid VideoId { get; init; }

    public Guid SceneId { get; init; }

    public float X { get; init; }

    public float Y { get; init; }

    public float Width { get; init; }

    public float Height { get; init; }

    /// <summary>Five points (eyes, nose, mouth corners) as x0, y0 … x4, y4.</summary>
    public required float[] Landmarks { get; init; }

    public float Score { get; init; }

    public float Quality { get; init; }

    public required float[] Embedding { get; init; }

    public Guid? PersonId { get; set; }
}

/// <summary>A scene's vector in one embedding space (sentence meaning, visual likeness).</summary>
public sealed class SceneEmbedding
{
    public Guid SceneId { get; init; }

    public required string Space { get; init; }

    public Guid VideoId { get; init; }

    public required float[] Vector { get; init; }
}

/// <summary>A frame sampled every few seconds, with its visual descriptor: what search by image compares against.</summary>
public sealed class SceneFrame
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid VideoId { get; init; }

    public Guid SceneId { get; init; }

    public double Seconds { get; init; }

    public required float[] Descriptor { get; init; }
}
