using Heimdex.Shared.People;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Pipeline;
using Heimdex.Worker.Stages;
using Microsoft.Extensions.DependencyInjection;

namespace Heimdex.Tests.Pipeline;

/// <summary>The one home of pipeline state: the stage transition table, the video's state following its stages, photos, and the stage graph.</summary>
public sealed class PipelineStateTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    // Which state each event leads to from each state; "-" where the event must be refused.
    private const string Table = """
                   Pending  Queued   Running  Succeeded Failed   Skipped
        Enqueue    Queued   Queued   -        -         -        -
        Start      Running  Running  Running  -         Running  -
        Succeed    -        -        Succeeded -        -        -
        Skip       -        -        Skipped  -         -        -
        Retry      -        -        Queued   -         -        -
        Interrupt  -        -        Queued   -         -        -
        Fail       -        Failed   Failed   -         -        -
        Reset      Pending  Pending  -        Pending   Pending  Pending
        """;

    public static TheoryData<StageEvent, StageState, StageState?> Transitions()
    {
        var lines = Table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var states = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Enum.Parse<StageState>).ToList();
        var data = new TheoryData<StageEvent, StageState, StageState?>();
        foreach (var cells in lines.Skip(1).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            for (var i = 0; i < states.Count; i++)
            {
                data.Add(Enum.Parse<StageEvent>(cells[0]), states[i], cells[i + 1] == "-" ? null : Enum.Parse<StageState>(cells[i + 1]));
            }
        }

        return data;
    }

    [Fact]
    public void The_table_covers_every_event_in_every_state() =>
        Assert.Equal(Enum.GetValues<StageEvent>().Length * Enum.GetValues<StageState>().Length, Transitions().Count);

    [Theory]
    [MemberData(nameof(Transitions))]
    public void A_stage_moves_only_as_the_table_allows(StageEvent happening, StageState from, StageState? to)
    {
        var run = RunIn(from);
        void Apply()
        {
            switch (happening)
            {
                case StageEvent.Enqueue: run.Enqueue("job-2"); break;
                case StageEvent.Start: run.Start("job-2", Now); break;
                case StageEvent.Succeed: run.Succeed(["key"], Now); break;
                case StageEvent.Skip: run.Skip("no audio", Now); break;
                case StageEvent.Retry: run.Retry("storage unreachable", "job-2", Now.AddSeconds(10)); break;
                case StageEvent.Interrupt: run.Interrupt("shutdown", null); break;
                case StageEvent.Fail: run.Fail("broken", Now); break;
                case StageEvent.Reset: run.Reset(); break;
            }
        }

        if (to is null)
        {
            var error = Assert.Throws<InvalidOperationException>(Apply);
            Assert.Contains(from.ToString().ToLowerInvariant(), error.Message);
            Assert.Equal(from, run.State);
        }
        else
        {
            Apply();
            Assert.Equal(to, run.State);
        }
    }

    [Fact]
    public void Attempts_are_counted_once_per_start_across_retries_and_resumes_and_start_over_on_reset()
    {
        var run = new StageRun { Stage = "transcribe" };
        run.Enqueue("job-1");
        run.Start("job-1", Now);
        run.Retry("storage unreachable", "job-2", Now.AddSeconds(10));
        Assert.Equal("attempt 1 failed: storage unreachable; retrying at 2026-12-03 12:00:10Z", run.Error);
        Assert.Equal("job-2", run.JobId);
        run.Start("job-2", Now);
        run.Interrupt("its worker stopped responding", "job-3");
        run.Start("job-3", Now);
        Assert.Equal(3, run.Attempt);
        Assert.Null(run.Error);

        run.Succeed(["a", "b"], Now);
        Assert.Equal(100, run.Progress);
        Assert.Equal(["a", "b"], run.OutputKeys);
        run.Reset();
        Assert.Equal((StageState.Pending, 0, 0, null), (run.State, run.Attempt, run.Progress, run.StartedAt));
    }

    [Fact]
    public void A_failed_stage_disowns_its_job_only_when_asked()
    {
        var kept = RunIn(StageState.Running);
        kept.Fail("broken", Now);
        Assert.Equal("job-1", kept.JobId);

        var disowned = RunIn(StageState.Running);
        disowned.Fail("its worker stopped responding 3 times", Now, disownJob: true);
        Assert.Null(disowned.JobId);
    }

    [Fact]
    public void A_video_is_indexed_when_its_last_stage_finishes_whichever_branch_that_is()
    {
        var video = VideoWith("validate", "transcribe", "detect_shots");
        video.Resume(new HashSet<string>(), Now);
        Assert.Equal(VideoState.Processing, video.State);

        var (validate, transcribe, shots) = (video.Stages[0], video.Stages[1], video.Stages[2]);
        video.StartStage(validate, "j1", Now);
        video.FinishStage(validate, null, [], Now);
        video.StartStage(transcribe, "j2", Now);
        video.StartStage(shots, "j3", Now);
        video.FinishStage(shots, null, [], Now);
        Assert.Equal(VideoState.Processing, video.State);
        video.FinishStage(transcribe, "the video has no audio stream", [], Now);

        Assert.Equal((VideoState.Indexed, StageState.Skipped, "the video has no audio stream"), (video.State, transcribe.State, transcribe.Error));
    }

    [Fact]
    public void A_video_keeps_the_first_failure_when_the_other_branch_fails_too_and_resuming_starts_failed_stages_over()
    {
        var video = VideoWith("transcribe", "ocr", "embed");
        video.Resume(new HashSet<string>(), Now);
        var (transcribe, ocr, embed) = (video.Stages[0], video.Stages[1], video.Stages[2]);
        video.StartStage(transcribe, "j1", Now);
        video.StartStage(ocr, "j2", Now);
        video.FailStage(ocr, "tesseract crashed", Now);
        video.FailStage(transcribe, "no speech model", Now);
        Assert.Equal((VideoState.Failed, "ocr: tesseract crashed"), (video.State, video.Error));

        video.Resume(new HashSet<string>(), Now);

        Assert.Equal((VideoState.Processing, null), (video.State, video.Error));
        Assert.All(video.Stages, run => Assert.Equal(StageState.Pending, run.State));
    }

    [Fact]
    public void Reprocessing_redoes_the_stages_asked_for_but_leaves_a_running_one_to_finish()
    {
        var video = VideoWith("validate", "transcribe", "detect_shots");
        video.Resume(new HashSet<string>(), Now);
        foreach (var run in video.Stages)
        {
            video.StartStage(run, "j", Now);
        }

        video.FinishStage(video.Stages[0], null, [], Now);
        video.FinishStage(video.Stages[1], null, [], Now); // detect_shots is still running when the reprocess comes

        video.Resume(new HashSet<string> { "transcribe", "detect_shots" }, Now);

        Assert.Equal([StageState.Succeeded, StageState.Pending, StageState.Running], video.Stages.Select(s => s.State));
        Assert.Equal(VideoState.Processing, video.State);
    }

    [Fact]
    public void A_photo_is_failed_once_its_attempts_are_spent_and_never_after_it_is_ready()
    {
        var photo = new PersonPhoto { ContentType = "image/jpeg" };
        photo.StartAttempt(Now);
        photo.RetryLater("storage unreachable", Now);
        Assert.Equal((PhotoState.Uploaded, "attempt 1 failed: storage unreachable; retrying"), (photo.State, photo.Error));
        photo.StartAttempt(Now);
        Assert.False(photo.GiveUpIfAttemptsSpent(maxAttempts: 3, Now));
        Assert.True(photo.GiveUpIfAttemptsSpent(maxAttempts: 2, Now));
        Assert.Equal(PhotoState.Failed, photo.State);
        Assert.Contains("stopped the worker 2 times", photo.Error);

        var ready = new PersonPhoto { ContentType = "image/jpeg" };
        ready.StartAttempt(Now);
        ready.Accept([1f, 0f], Now);
        Assert.False(ready.GiveUpIfAttemptsSpent(maxAttempts: 1, Now));
        Assert.Equal(PhotoState.Ready, ready.State);
    }

    private static StageRegistry Graph() =>
        new ServiceCollection().AddPipelineStages().Select(d => d.ImplementationInstance).OfType<StageRegistry>().Single();

    [Fact]
    public void The_audio_and_picture_branches_start_together_after_validation_and_join_at_people()
    {
        var graph = Graph();
        var video = VideoWith([.. graph.Names]);
        video.Resume(new HashSet<string>(), Now);
        Assert.Equal(["validate"], graph.Ready(video).Select(r => r.Stage));

        Finish(video, "validate");
        Assert.Equal(["extract_audio", "detect_shots"], graph.Ready(video).Select(r => r.Stage));

        foreach (var stage in new[] { "extract_audio", "detect_shots", "ocr", "keyframes", "faces" })
        {
            Finish(video, stage);
        }

        Assert.Equal(["transcribe", "slides"], graph.Ready(video).Select(r => r.Stage)); // people waits for the audio branch
        Assert.Equal("transcribe", graph.UnfinishedNeed(video, "people"));
        Finish(video, "transcribe");
        Assert.Equal(["slides", "people"], graph.Ready(video).Select(r => r.Stage));
        Assert.Equal("slides", graph.UnfinishedNeed(video, "notes"));

        var people = video.Stage("people");
        video.StartStage(people, "job-people", Now);
        video.FailStage(people, "broken", Now);
        Assert.Empty(graph.Ready(video)); // nothing more starts on a failed video
    }

    [Fact]
    public void Redoing_a_stage_redoes_what_depends_on_it_and_nothing_in_the_other_branch()
    {
        var graph = Graph();
        Assert.Equal(["transcribe", "people", "embed", "notes", "finalize"], graph.Names.Where(graph.WithDependents("transcribe").Contains));
        Assert.Equal(["ocr", "keyframes", "faces", "slides", "people", "embed", "notes", "finalize"], graph.Names.Where(graph.WithDependents("ocr").Contains));
        Assert.Equal(["keyframes", "faces", "slides", "people", "embed", "notes", "finalize"], graph.Names.Where(graph.WithDependents("keyframes").Contains));
        Assert.Equal(["extract_audio", "transcribe", "people", "embed", "notes", "finalize"], graph.Names.Where(graph.WithDependents("extract_audio").Contains));
        Assert.Equal(graph.Names, graph.Names.Where(graph.WithDependents("validate").Contains));
        Assert.Throws<ArgumentException>(() => graph.WithDependents("nonsense"));
    }

    [Fact]
    public void A_stage_can_only_need_stages_added_before_it()
    {
        var graph = new StageRegistry();
        graph.Add("validate", typeof(ValidateStage), []);
        Assert.Contains("'ocr', which is not added before it", Assert.Throws<ArgumentException>(() => graph.Add("faces", typeof(FacesStage), ["ocr"])).Message);
        Assert.Contains("only the first stage", Assert.Throws<ArgumentException>(() => graph.Add("ocr", typeof(OcrStage), [])).Message);
    }

    private static void Finish(Video video, string stage)
    {
        var run = video.Stage(stage);
        video.StartStage(run, $"job-{stage}", Now);
        video.FinishStage(run, null, [], Now);
    }

    private static Video VideoWith(params string[] stages)
    {
        var video = new Video { Title = "t", OriginalFileName = "t.mp4", ContentType = "video/mp4" };
        video.Stages.AddRange(stages.Select((stage, position) => new StageRun { VideoId = video.Id, Stage = stage, Position = position }));
        return video;
    }

    /// <summary>A run brought to <paramref name="state"/> the way the pipeline brings it there.</summary>
    private static StageRun RunIn(StageState state)
    {
        var run = new StageRun { Stage = "ocr" };
        if (state == StageState.Pending)
        {
            return run;
        }

        run.Enqueue("job-1");
        if (state != StageState.Queued)
        {
            run.Start("job-1", Now);
        }

        switch (state)
        {
            case StageState.Succeeded: run.Succeed([], Now); break;
            case StageState.Failed: run.Fail("broken", Now); break;
            case StageState.Skipped: run.Skip("no audio", Now); break;
        }

        Assert.Equal(state, run.State);
        return run;
    }
}
