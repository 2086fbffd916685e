using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hangfire;
using Heimdex.Shared.Storage;
using Heimdex.Tests.Uploads;
using Npgsql;

namespace Heimdex.Tests.Pipeline;

/// <summary>The pipeline on real media, through the real graph: upload, stages, failure, recovery.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class PipelineTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static async Task<Guid> UploadAsync(HttpClient client, string path) =>
        await VideoUploadTests.UploadAsync(client, await File.ReadAllBytesAsync(path, Cancellation), Path.GetFileName(path));

    /// <summary>Polls the video until <paramref name="condition"/> holds; fails the test with the video's last state otherwise.</summary>
    public static Task<JsonElement> WaitForAsync(HttpClient client, Guid id, Func<JsonElement, bool> condition, string what, int seconds = 180) =>
        Eventually.PollAsync(() => client.GetFromJsonAsync<JsonElement>($"/api/videos/{id}", Cancellation), condition, $"'{what}' for video {id}", seconds);

    /// <summary>Asks for a reprocess, waiting out 409 answers: the API refuses while a stage of the video is still running.</summary>
    private static Task<HttpResponseMessage> ReprocessAsync(HttpClient client, Guid id, string fromStage) =>
        Eventually.PollAsync(() => client.PostAsync($"/api/videos/{id}/reprocess?fromStage={fromStage}", null, Cancellation),
            response => response.StatusCode != HttpStatusCode.Conflict, $"reprocess of video {id} accepted", seconds: 60);

    private static Task<JsonElement> WaitForEndAsync(HttpClient client, Guid id) =>
        WaitForAsync(client, id, v => v.GetProperty("state").GetString() is "indexed" or "failed", "indexed or failed");

    private static JsonElement Stage(JsonElement video, string name) =>
        video.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == name);

    /// <summary>Progress of a stage, or -1 while the pipeline has not created its stages yet.</summary>
    private static int ProgressOf(JsonElement video, string name) =>
        video.GetProperty("stages").EnumerateArray().Where(s => s.GetProperty("stage").GetString() == name)
            .Select(s => s.GetProperty("progress").GetInt32()).DefaultIfEmpty(-1).Single();

    [Fact]
    public async Task Testvideo_is_indexed_with_its_scenes_cut_at_the_hard_cuts_and_thumbnails_stored()
    {
        using var alice = graph.Client(graph.AliceKey);
        var id = await UploadAsync(alice, TestFiles.TestVideo);

        var video = await WaitForEndAsync(alice, id);

        Assert.Equal("indexed", video.GetProperty("state").GetString());
        Assert.Equal(["validate", "extract_audio", "transcribe", "detect_shots", "ocr", "keyframes", "faces", "slides", "people", "embed", "notes", "finalize"],
            video.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("stage").GetString()));
        Assert.Equal("skipped", Stage(video, "extract_audio").GetProperty("state").GetString()); // testvideo.mp4 has no audio
        Assert.Equal(1280, video.GetProperty("width").GetInt32());
        Assert.Equal(24.0, video.GetProperty("durationSeconds").GetDouble(), 0.1);
        var scenes = (await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}/scenes", Cancellation)).EnumerateArray().ToList();
        var starts = scenes.Select(s => s.GetProperty("startFrame").GetInt32()).ToList();
        Assert.Contains(starts, f => Math.Abs(f - 30) <= 1);
        Assert.Contains(starts, f => Math.Abs(f - 180) <= 1);
        Assert.Equal(Enumerable.Range(0, scenes.Count), scenes.Select(s => s.GetProperty("index").GetInt32()));

        using var thumbnail = await alice.GetAsync(scenes[1].GetProperty("thumbnailUrl").GetString(), Cancellation);
        Assert.Equal("image/jpeg", thumbnail.Content.Headers.ContentType?.MediaType);
        Assert.Equal(320, JpegWidth(await thumbnail.Content.ReadAsByteArrayAsync(Cancellation)));
        var keyframe = await alice.GetByteArrayAsync(scenes[1].GetProperty("keyframeUrl").GetString(), Cancellation);
        Assert.Equal(1280, JpegWidth(keyframe));
        var stored = (await TestFiles.StorageSnapshotAsync(graph.Storage.CreateClient(), graph.Storage.Bucket)).Objects;
        Assert.All(Enumerable.Range(0, scenes.Count), i => Assert.Contains(StorageKeys.Thumbnail(id, i), stored));

        using var admin = new HttpClient();
        admin.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("admin:" + graph.AdminKey)));
        var succeeded = await admin.GetStringAsync(graph.HangfireDashboard + "/jobs/succeeded", Cancellation);
        Assert.Contains($"keyframes &#183; video {id}", succeeded);
    }

    [Fact]
    public async Task A_video_with_sound_gets_its_audio_extracted_as_16_khz_mono()
    {
        using var alice = graph.Client(graph.AliceKey);
        var path = await MediaFactory.WithSoundAsync(TestFiles.SharedMedia("audio", "jfk.wav"));
        var id = await UploadAsync(alice, path);

        var video = await WaitForEndAsync(alice, id);

        Assert.Equal("indexed", video.GetProperty("state").GetString());
        Assert.Equal("succeeded", Stage(video, "extract_audio").GetProperty("state").GetString());
        using var s3 = graph.Storage.CreateClient();
        using var audio = await s3.GetObjectAsync(graph.Storage.Bucket, StorageKeys.Audio(id), Cancellation);
        var header = new byte[44];
        await audio.ResponseStream.ReadExactlyAsync(header, Cancellation);
        Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(header, 0, 4));
        Assert.Equal(1, BitConverter.ToInt16(header, 22)); // channels
        Assert.Equal(16000, BitConverter.ToInt32(header, 24)); // sample rate
        Assert.Equal(16, BitConverter.ToInt16(header, 34)); // bits per sample
    }

    [Fact]
    public async Task Broken_inputs_fail_with_a_reason_and_the_worker_keeps_serving_other_videos()
    {
        using var alice = graph.Client(graph.AliceKey);
        var original = await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation);
        var corrupt = original[..64].Concat(Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7919 % 251))).ToArray();
        var truncated = original[..(original.Length / 3)];
        var inputs = new Dictionary<string, byte[]>
        {
            ["corrupt.mp4"] = corrupt,
            ["truncated.mp4"] = truncated,
            ["audio-only.mp4"] = await File.ReadAllBytesAsync(await MediaFactory.AudioOnlyMp4Async(TestFiles.SharedMedia("audio", "jfk.wav")), Cancellation),
        };
        var ids = new Dictionary<string, Guid>();
        foreach (var (name, bytes) in inputs)
        {
            ids[name] = await VideoUploadTests.UploadAsync(alice, bytes, name);
        }

        var good = await UploadAsync(alice, TestFiles.TestVideo);

        foreach (var (name, id) in ids)
        {
            var video = await WaitForEndAsync(alice, id);
            Assert.True(video.GetProperty("state").GetString() == "failed", $"{name}: {video}");
            var error = video.GetProperty("error").GetString()!;
            Assert.StartsWith("validate: ", error);
            Assert.Equal("failed", Stage(video, "validate").GetProperty("state").GetString());
            if (name == "audio-only.mp4")
            {
                Assert.Contains("no video stream", error);
            }
        }

        Assert.Equal("indexed", (await WaitForEndAsync(alice, good)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Reprocess_from_a_stage_reruns_it_and_the_stages_that_need_it_only()
    {
        using var alice = graph.Client(graph.AliceKey);
        var id = await UploadAsync(alice, TestFiles.TestVideo);
        var before = await WaitForEndAsync(alice, id);
        var scenesBefore = (await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}/scenes", Cancellation)).GetArrayLength();

        using var unknown = await alice.PostAsync($"/api/videos/{id}/reprocess?fromStage=nonsense", null, Cancellation);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        using var accepted = await ReprocessAsync(alice, id, "keyframes");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var after = await WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed"
            && StartedAt(v, "finalize") > StartedAt(before, "finalize"), "reprocessed");

        // The picture branch from keyframes on, and what joins it, ran again; the audio branch did not.
        Assert.All(["keyframes", "faces", "slides", "people", "embed", "notes"], stage => Assert.True(StartedAt(after, stage) > StartedAt(before, stage), stage));
        Assert.All(["validate", "extract_audio", "transcribe", "detect_shots", "ocr"], stage => Assert.Equal(StartedAt(before, stage), StartedAt(after, stage)));
        Assert.Equal(scenesBefore, (await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}/scenes", Cancellation)).GetArrayLength());
    }

    private static DateTimeOffset StartedAt(JsonElement video, string stage) => Stage(video, stage).GetProperty("startedAt").GetDateTimeOffset();

    /// <summary>The first stage, one of the audio branch and one of the picture branch, each losing the file it reads.</summary>
    [Theory]
    [InlineData("validate")]
    [InlineData("transcribe")]
    [InlineData("keyframes")]
    public async Task A_stage_that_keeps_failing_fails_the_video_and_requeueing_its_job_resumes_it(string stage)
    {
        using var alice = graph.Client(graph.AliceKey);
        var id = await UploadAsync(alice, await MediaFactory.WithSoundAsync(TestFiles.SharedMedia("audio", "jfk.wav")));
        var before = await WaitForEndAsync(alice, id);
        Assert.Equal("indexed", before.GetProperty("state").GetString());
        var (key, file) = stage == "transcribe" ? (StorageKeys.Audio(id), Path.GetTempFileName()) : (StorageKeys.VideoOriginal(id), Path.GetTempFileName());
        using var s3 = graph.Storage.CreateClient();
        using (var stored = await s3.GetObjectAsync(graph.Storage.Bucket, key, Cancellation))
        {
            await stored.WriteResponseStreamToFileAsync(file, append: false, Cancellation);
        }

        await s3.DeleteObjectAsync(graph.Storage.Bucket, key, Cancellation); // storage lost the file

        (await ReprocessAsync(alice, id, stage)).EnsureSuccessStatusCode();
        var failed = await WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "failed", "failed after its retries");

        Assert.StartsWith($"{stage}: failed after every retry (3 attempts)", failed.GetProperty("error").GetString());
        Assert.Equal(3, Stage(failed, stage).GetProperty("attempt").GetInt32());
        var untouched = stage == "transcribe" ? "keyframes" : stage == "keyframes" ? "transcribe" : null;
        if (untouched is not null)
        {
            Assert.Equal(StartedAt(before, untouched), StartedAt(failed, untouched)); // the other branch is not redone
        }

        await s3.PutObjectAsync(new() { BucketName = graph.Storage.Bucket, Key = key, FilePath = file }, Cancellation);
        // The video is failed first; Hangfire marks the job failed a moment later, when the job has thrown.
        var failedJob = (await Eventually.PollAsync(() => Task.FromResult(graph.Jobs.GetMonitoringApi().FailedJobs(0, 1000).Where(j => j.Value.Job.Args.Contains(id)).ToList()),
            jobs => jobs.Count == 1, $"the failed job of video {id}", seconds: 30)).Single().Key;
        Assert.True(new BackgroundJobClient(graph.Jobs).Requeue(failedJob)); // what the dashboard's Requeue button does

        var resumed = await WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed", "indexed again");
        Assert.Equal(4, Stage(resumed, stage).GetProperty("attempt").GetInt32());
        File.Delete(file);
    }

    [Fact]
    public async Task A_worker_killed_while_both_branches_run_resumes_each_at_its_stage_without_duplicates()
    {
        using var alice = graph.Client(graph.AliceKey);
        // Long shots and a long talk: keyframes decode the whole video once, and transcription takes minutes, so both
        // branches are caught under way at the same moment (a pipeline of one stage at a time never gets there).
        var id = await UploadAsync(alice, await MediaFactory.ShotsAsync(shots: 30, shotSeconds: 20, TestFiles.SharedMedia("audio", "jfk.wav")));
        await WaitForAsync(alice, id, v => ProgressOf(v, "keyframes") is > 0 and < 100 && Stage(v, "transcribe").GetProperty("state").GetString() == "running",
            "keyframes and transcribe under way together", seconds: 240);

        await graph.Graph.CrashAsync("worker"); // SIGKILL, mid-stage in both branches

        var video = await WaitForAsync(alice, id, v => v.GetProperty("state").GetString() is "indexed" or "failed", "resumed to the end", seconds: 420);
        Assert.Equal("indexed", video.GetProperty("state").GetString());
        Assert.Equal(2, Stage(video, "keyframes").GetProperty("attempt").GetInt32());
        Assert.Equal(2, Stage(video, "transcribe").GetProperty("attempt").GetInt32());
        Assert.Equal(1, Stage(video, "detect_shots").GetProperty("attempt").GetInt32());
        Assert.Equal(1, Stage(video, "extract_audio").GetProperty("attempt").GetInt32());

        var scenes = (await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}/scenes", Cancellation)).EnumerateArray().ToList();
        Assert.Equal(30, scenes.Count);
        Assert.All(scenes, s => Assert.NotNull(s.GetProperty("thumbnailUrl").GetString()));
        Assert.Equal((30L, 30L), await CountAsync("Scenes", "Index", id));
        var (segments, distinct) = await CountAsync("TranscriptSegments", "StartSeconds", id);
        Assert.True(segments > 20, $"{segments} transcript segments for ten minutes of speech");
        Assert.Equal(segments, distinct);
    }

    /// <summary>A table's rows for the video, and how many distinct values of <paramref name="column"/> they hold: equal when nothing is duplicated.</summary>
    private async Task<(long Rows, long Distinct)> CountAsync(string table, string column, Guid id)
    {
        await using var connection = new NpgsqlConnection(graph.DatabaseConnectionString);
        await connection.OpenAsync(Cancellation);
        await using var count = new NpgsqlCommand($"SELECT count(*), count(DISTINCT \"{column}\") FROM \"{table}\" WHERE \"VideoId\" = $1", connection)
        {
            Parameters = { new() { Value = id } },
        };
        await using var reader = await count.ExecuteReaderAsync(Cancellation);
        await reader.ReadAsync(Cancellation);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    [Fact]
    public async Task Deleting_a_video_while_a_stage_runs_leaves_no_object_behind()
    {
        using var alice = graph.Client(graph.AliceKey);
        var id = await UploadAsync(alice, await MediaFactory.ShotsAsync(shots: 24, shotSeconds: 20));
        await WaitForAsync(alice, id, v => ProgressOf(v, "keyframes") is > 0 and < 100, "keyframes under way", seconds: 240);

        Assert.Equal(HttpStatusCode.NoContent, (await alice.DeleteAsync($"/api/videos/{id}", Cancellation)).StatusCode);

        // The stage stops at its next heartbeat (it would otherwise decode on and store its pictures for nobody), and
        // only once its job has ended is "nothing left" final: objects it stored after the delete are gone too.
        await Eventually.PollAsync(() => Task.FromResult(graph.Jobs.GetMonitoringApi().ProcessingJobs(0, 100).Count(j => j.Value.Job.Args.Contains(id))),
            processing => processing == 0, $"the stage job of deleted video {id} to end", seconds: 30);
        Assert.DoesNotContain((await graph.StorageSnapshotAsync()).Objects, k => k.StartsWith(StorageKeys.VideoPrefix(id), StringComparison.Ordinal));
    }

    /// <summary>Width from a baseline or progressive JPEG's frame header.</summary>
    private static int JpegWidth(byte[] jpeg)
    {
        for (var i = 2; i + 9 < jpeg.Length;)
        {
            if (jpeg[i] != 0xFF)
            {
                break;
            }

            var marker = jpeg[i + 1];
            var length = (jpeg[i + 2] << 8) | jpeg[i + 3];
            if (marker is 0xC0 or 0xC1 or 0xC2)
            {
                return (jpeg[i + 7] << 8) | jpeg[i + 8];
            }

            i += 2 + length;
        }

        return -1;
    }
}
