using System.Net;
using System.Net.Http.Json;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using Hangfire;
using Heimdex.Shared.People;
using Heimdex.Worker.People;
using Heimdex.Tests.Pipeline;
using Heimdex.Tests.Uploads;
using Npgsql;

namespace Heimdex.Tests.People;

/// <summary>People through the real graph: reference photos, matching in both directions, appearances, deletion.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class PeopleTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static string Face(string file) => TestFiles.SharedMedia("faces", file);

    [Fact]
    public async Task A_person_from_two_photos_is_found_in_every_scene_showing_them_and_nowhere_else()
    {
        using var alice = graph.Client(graph.AliceKey);
        // Two seconds per photo: obama_3, obama_4, the group photo, biden_1, biden_2.
        var slideshow = await MediaFactory.SlideshowAsync(
            [Face("obama_3.jpg"), Face("obama_4.jpg"), Face("obama_and_biden.jpg"), Face("biden_1.jpg"), Face("biden_2.jpg")], 2);
        var before = await IndexAsync(alice, slideshow, "before the person existed");

        var person = await CreatePersonAsync(alice, "Barack Obama");
        await AddPhotoAsync(alice, person, Face("obama_1.jpg"));
        await AddPhotoAsync(alice, person, Face("obama_2.jpg"));
        var ready = await WaitForPhotosAsync(alice, person);
        Assert.All(ready.GetProperty("photos").EnumerateArray(), p => Assert.Equal("ready", p.GetProperty("state").GetString()));
        Assert.True(ready.GetProperty("searchable").GetBoolean());
        // The photos finished together; the person's face is made from both, not from whichever finished last.
        var (personEmbedding, photoEmbeddings) = await StoredEmbeddingsAsync(person);
        Assert.Equal(2, photoEmbeddings.Count);
        Assert.InRange(TensorPrimitives.Dot(personEmbedding, FaceMatching.PersonEmbedding(photoEmbeddings)!), 0.9999f, 1.0001f);

        // Existing videos are matched again in the background once the photos are ready.
        var scenes = await WaitForScenesAsync(alice, before, s => MatchedAt(s, 1, person) > 0, "the person matched in the existing video");
        Assert.Equal(1, MatchedAt(scenes, 1, person)); // obama_3
        Assert.Equal(1, MatchedAt(scenes, 3, person)); // obama_4
        var group = SceneAt(scenes, 5);
        var matched = Assert.Single(group.GetProperty("faces").EnumerateArray(), f => PersonOf(f) == person);
        // In the letterboxed frame the group photo's Obama (x≈1140 of 2000) is at about x = 135 + 1140 × 0.504 ≈ 710.
        Assert.InRange(matched.GetProperty("x").GetSingle() + matched.GetProperty("width").GetSingle() / 2, 620, 800);
        Assert.Equal(3, group.GetProperty("faces").GetArrayLength());
        Assert.Equal(0, MatchedAt(scenes, 7, person)); // biden_1
        Assert.Equal(0, MatchedAt(scenes, 9, person)); // biden_2
        Assert.NotEmpty(SceneAt(scenes, 9).GetProperty("faces").EnumerateArray());

        // A video indexed after the person exists is matched by its own pipeline.
        var after = await IndexAsync(alice, await MediaFactory.SlideshowAsync([Face("biden_1.jpg"), Face("obama_4.jpg")], 2), "after the person existed");
        Assert.Equal(1, MatchedAt(await ScenesAsync(alice, after), 3, person));

        var appearances = (await alice.GetFromJsonAsync<JsonElement>($"/api/people/{person}/appearances", Cancellation)).EnumerateArray().ToList();
        var inBefore = Assert.Single(appearances, a => a.GetProperty("videoId").GetGuid() == before);
        var range = Assert.Single(inBefore.GetProperty("ranges").EnumerateArray()); // three consecutive scenes, merged
        Assert.Equal(0, range.GetProperty("startSeconds").GetDouble(), 0.1);
        Assert.Equal(6, range.GetProperty("endSeconds").GetDouble(), 0.2);
        Assert.Equal(3, range.GetProperty("sceneIndexes").GetArrayLength());
        Assert.NotNull(range.GetProperty("thumbnailUrl").GetString());
        var inAfter = Assert.Single(appearances, a => a.GetProperty("videoId").GetGuid() == after);
        Assert.Equal(2, Assert.Single(inAfter.GetProperty("ranges").EnumerateArray()).GetProperty("startSeconds").GetDouble(), 0.2);

        // Search by person: only scenes where the person appears, here the three of the first video.
        var search = await alice.GetFromJsonAsync<JsonElement>(
            $"/api/search?q={Uri.EscapeDataString("before the person existed")}&personId={person}&videoId={before}", Cancellation);
        Assert.Equal([0, 1, 2], search.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("sceneIndex").GetInt32()).Order());

        using var bob = graph.Client(graph.BobKey);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/people/{person}", Cancellation)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/people/{person}/appearances", Cancellation)).StatusCode);

        // Removing a photo re-matches: with one photo left the person is still found; with none, nowhere.
        var photos = ready.GetProperty("photos").EnumerateArray().Select(p => p.GetProperty("id").GetGuid()).ToList();
        Assert.Equal(HttpStatusCode.NoContent, (await alice.DeleteAsync($"/api/people/{person}/photos/{photos[0]}", Cancellation)).StatusCode);
        Assert.Equal(1, MatchedAt(await ScenesAsync(alice, before), 1, person));
        Assert.Equal(HttpStatusCode.NoContent, (await alice.DeleteAsync($"/api/people/{person}/photos/{photos[1]}", Cancellation)).StatusCode);
        await WaitForScenesAsync(alice, before, s => s.All(scene => scene.GetProperty("faces").EnumerateArray().All(f => PersonOf(f) != person)),
            "release of every match once the person has no photo");
        Assert.False((await alice.GetFromJsonAsync<JsonElement>($"/api/people/{person}", Cancellation)).GetProperty("searchable").GetBoolean());
        await AddPhotoAsync(alice, person, Face("obama_2.jpg"));
        await WaitForScenesAsync(alice, before, s => MatchedAt(s, 1, person) == 1, "the person matched again from a new photo");

        Assert.Equal(HttpStatusCode.NoContent, (await alice.DeleteAsync($"/api/people/{person}", Cancellation)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync($"/api/people/{person}", Cancellation)).StatusCode);
        Assert.All(await ScenesAsync(alice, before), s => Assert.All(s.GetProperty("faces").EnumerateArray(), f => Assert.NotEqual(person, PersonOf(f))));
        Assert.DoesNotContain((await graph.StorageSnapshotAsync()).Objects, key => key.StartsWith($"people/{person:N}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Photos_that_cannot_serve_end_failed_with_their_reason_and_non_images_are_refused()
    {
        using var alice = graph.Client(graph.AliceKey);
        var person = await CreatePersonAsync(alice, "Nobody in particular");
        await AddPhotoAsync(alice, person, await MediaFactory.TextImageAsync("No face here"));
        await AddPhotoAsync(alice, person, Face("obama_and_biden.jpg"));

        var photos = (await WaitForPhotosAsync(alice, person)).GetProperty("photos").EnumerateArray().ToList();
        Assert.All(photos, p => Assert.Equal("failed", p.GetProperty("state").GetString()));
        Assert.Equal("no face was found in the photo", photos[0].GetProperty("error").GetString());
        Assert.StartsWith("the photo shows 3 faces and none is clearly the subject", photos[1].GetProperty("error").GetString());

        using var text = new MultipartFormDataContent { { new ByteArrayContent("not an image"u8.ToArray()), "file", "photo.jpg" } };
        using var refused = await alice.PostAsync($"/api/people/{person}/photos", text, Cancellation);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, (await alice.PostAsJsonAsync("/api/people", new { name = " " }, Cancellation)).StatusCode);
    }

    [Fact]
    public async Task A_json_body_past_the_limit_is_refused_with_413_and_a_photo_past_it_is_still_taken()
    {
        using var alice = graph.Client(await graph.CreateUserAsync($"large-bodies-{Guid.NewGuid():N}"));
        using var huge = new HttpRequestMessage(HttpMethod.Post, "/api/people")
        {
            Content = new StringContent($"{{\"name\":\"{new string('x', 50 * 1024 * 1024)}\"}}", Encoding.UTF8, "application/json"),
        };
        huge.Headers.ExpectContinue = true; // the answer comes before the body is sent, as a client sending a large body should ask

        using var refused = await alice.SendAsync(huge, Cancellation);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        var person = await CreatePersonAsync(alice, "Joe Biden");
        var photo = await File.ReadAllBytesAsync(Face("biden_1.jpg"), Cancellation);
        var padded = await MediaFactory.PaddedJpegAsync(photo, 3 * 1024 * 1024); // larger than a JSON body may be
        await AddPhotoAsync(alice, person, padded);
    }

    [Fact]
    public async Task A_decompression_bomb_is_refused_by_image_search_and_fails_as_a_photo_and_both_services_carry_on()
    {
        using var carol = graph.Client(await graph.CreateUserAsync($"bombs-{Guid.NewGuid():N}"));
        var bomb = await MediaFactory.PngDeclaringAsync(30_000, 30_000);
        var (api, worker) = (await graph.Graph.ServicePidAsync("api"), await graph.Graph.ServicePidAsync("worker"));
        var started = System.Diagnostics.Stopwatch.StartNew();

        using var form = new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(bomb, Cancellation)), "file", "bomb.png" } };
        using var search = await carol.PostAsync("/api/search/image", form, Cancellation);
        var searchAnswered = started.Elapsed;
        var person = await CreatePersonAsync(carol, "Nobody");
        await AddPhotoAsync(carol, person, bomb);
        var photo = (await WaitForPhotosAsync(carol, person)).GetProperty("photos")[0];

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, search.StatusCode);
        Assert.Contains("30000 × 30000 pixels", (await search.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("detail").GetString());
        Assert.Equal("failed", photo.GetProperty("state").GetString());
        Assert.Contains("30000 × 30000 pixels", photo.GetProperty("error").GetString());
        Assert.True(searchAnswered < TimeSpan.FromSeconds(5), $"{searchAnswered} to refuse the search");
        Assert.Equal((api, worker), (await graph.Graph.ServicePidAsync("api"), await graph.Graph.ServicePidAsync("worker")));
    }

    [Fact]
    public async Task A_photo_whose_job_was_lost_is_processed_again_by_the_watchdog()
    {
        using var alice = graph.Client(graph.AliceKey);
        var person = await CreatePersonAsync(alice, "Joe Biden");
        await AddPhotoAsync(alice, person, Face("biden_1.jpg"));
        var photo = (await WaitForPhotosAsync(alice, person)).GetProperty("photos")[0].GetProperty("id").GetGuid();

        // As if Redis lost the job: the photo waits with no job, an hour after it was uploaded.
        var current = await LeavePhotoAsync(alice, person, photo, "Uploaded", attempts: 0, until: "ready", seconds: 90);

        Assert.Equal("ready", current.GetProperty("state").GetString());
        Assert.Equal(1, current.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task A_photo_that_stopped_the_worker_on_its_last_attempt_is_failed_by_the_watchdog_and_not_tried_again()
    {
        // A user of its own: the person keeps the face of the photo that was ready, which must not match anyone else's videos.
        using var alice = graph.Client(await graph.CreateUserAsync($"crashing-photo-{Guid.NewGuid():N}"));
        var person = await CreatePersonAsync(alice, "Barack Obama");
        await AddPhotoAsync(alice, person, Face("obama_4.jpg"));
        var photo = (await WaitForPhotosAsync(alice, person)).GetProperty("photos")[0].GetProperty("id").GetGuid();
        // Counted once the photo's job has left Hangfire's enqueued and processing lists: the photo is ready in
        // Postgres a moment before its job is marked succeeded, and a count read across that move is off by one.
        var jobsBefore = (await Eventually.PollAsync(() => Task.FromResult(PhotoJobs(photo)), jobs => jobs.Unfinished == 0, "the photo's job finished", seconds: 30)).All;

        // As if the worker died while reading the photo on each of its 3 attempts: processing, attempts spent, long ago.
        var current = await LeavePhotoAsync(alice, person, photo, "Processing", attempts: 3, until: "failed", seconds: 30);
        Assert.StartsWith("processing it stopped the worker 3 times", current.GetProperty("error").GetString());
        await Task.Delay(TimeSpan.FromSeconds(5), Cancellation); // two more sweeps
        Assert.Equal(jobsBefore, PhotoJobs(photo).All);
        Assert.Equal("failed", (await alice.GetFromJsonAsync<JsonElement>($"/api/people/{person}", Cancellation)).GetProperty("photos")[0].GetProperty("state").GetString());
    }

    [Fact]
    public async Task Matching_that_did_not_finish_after_a_photo_was_saved_ready_is_done_when_its_job_is_retried()
    {
        using var owner = graph.Client(await graph.CreateUserAsync($"rematch-{Guid.NewGuid():N}"));
        var video = await IndexAsync(owner, await MediaFactory.SlideshowAsync([Face("obama_3.jpg")], 2), "one face");
        var person = await CreatePersonAsync(owner, "Barack Obama");
        await AddPhotoAsync(owner, person, Face("obama_1.jpg"));
        var photo = (await WaitForPhotosAsync(owner, person)).GetProperty("photos")[0].GetProperty("id").GetGuid();
        await WaitForScenesAsync(owner, video, scenes => MatchedAt(scenes, 1, person) > 0, "the person matched");

        // As if the match had failed after the photo was saved ready: the faces are nobody's, and Hangfire retries the job.
        await graph.ExecuteSqlAsync("UPDATE \"Faces\" SET \"PersonId\" = NULL WHERE \"PersonId\" = $1", person);
        Assert.Equal(0, MatchedAt(await ScenesAsync(owner, video), 1, person));
        new BackgroundJobClient(graph.Jobs).Enqueue<IPeopleJobs>(jobs => jobs.ProcessPhotoAsync(photo, CancellationToken.None));

        await WaitForScenesAsync(owner, video, scenes => MatchedAt(scenes, 1, person) > 0, "the person matched again by the retried job");
    }

    /// <summary>Puts a photo in <paramref name="state"/> an hour ago, with no face, and waits for the watchdog to bring it to <paramref name="until"/>.</summary>
    private async Task<JsonElement> LeavePhotoAsync(HttpClient client, Guid person, Guid photo, string state, int attempts, string until, int seconds)
    {
        await graph.ExecuteSqlAsync("UPDATE \"PersonPhotos\" SET \"State\" = $2, \"Attempts\" = $3, \"FaceEmbedding\" = NULL, " +
                                    "\"UpdatedAt\" = now() - interval '1 hour' WHERE \"Id\" = $1", photo, state, attempts);
        return await Eventually.PollAsync(
            async () => (await client.GetFromJsonAsync<JsonElement>($"/api/people/{person}", Cancellation)).GetProperty("photos")[0],
            p => p.GetProperty("state").GetString() == until, $"photo {until} after the watchdog found it {state.ToLowerInvariant()}", seconds);
    }

    /// <summary>Hangfire jobs that process the photo: all of them, in any state, and those enqueued or processing.</summary>
    private (int All, int Unfinished) PhotoJobs(Guid photo)
    {
        var monitoring = graph.Jobs.GetMonitoringApi();
        var unfinished = monitoring.Queues().SelectMany(q => monitoring.EnqueuedJobs(q.Name, 0, 10_000).Select(j => j.Value.Job))
            .Concat(monitoring.ProcessingJobs(0, 10_000).Select(j => j.Value.Job)).ToList();
        var finished = monitoring.ScheduledJobs(0, 10_000).Select(j => j.Value.Job)
            .Concat(monitoring.SucceededJobs(0, 10_000).Select(j => j.Value.Job))
            .Concat(monitoring.FailedJobs(0, 10_000).Select(j => j.Value.Job)).ToList();
        int Of(IEnumerable<Hangfire.Common.Job?> jobs) => jobs.Count(job => job?.Method.Name == nameof(PeopleJobs.ProcessPhotoAsync) && job.Args.Contains(photo));
        return (Of(unfinished) + Of(finished), Of(unfinished));
    }

    private static async Task<Guid> IndexAsync(HttpClient client, string path, string what)
    {
        var id = await VideoUploadTests.UploadAsync(client, await File.ReadAllBytesAsync(path, Cancellation), "slideshow.mp4", what);
        var video = await PipelineTests.WaitForAsync(client, id, v => v.GetProperty("state").GetString() is "indexed" or "failed", "indexed", seconds: 240);
        Assert.Equal("indexed", video.GetProperty("state").GetString());
        return id;
    }

    private async Task<(float[] Person, List<float[]> Photos)> StoredEmbeddingsAsync(Guid person)
    {
        await using var connection = new NpgsqlConnection(graph.DatabaseConnectionString);
        await connection.OpenAsync(Cancellation);
        await using var command = new NpgsqlCommand(
            "SELECT p.\"Embedding\", ph.\"FaceEmbedding\" FROM \"People\" p JOIN \"PersonPhotos\" ph ON ph.\"PersonId\" = p.\"Id\" " +
            "WHERE p.\"Id\" = $1 AND ph.\"State\" = 'Ready'", connection)
        { Parameters = { new() { Value = person } } };
        await using var reader = await command.ExecuteReaderAsync(Cancellation);
        var (embedding, photos) = (Array.Empty<float>(), new List<float[]>());
        while (await reader.ReadAsync(Cancellation))
        {
            (embedding, photos) = (reader.GetFieldValue<float[]>(0), [.. photos, reader.GetFieldValue<float[]>(1)]);
        }

        return (embedding, photos);
    }

    private static async Task<Guid> CreatePersonAsync(HttpClient client, string name)
    {
        using var created = await client.PostAsJsonAsync("/api/people", new { name }, Cancellation);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("id").GetGuid();
    }

    private static async Task AddPhotoAsync(HttpClient client, Guid person, string path)
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(path, Cancellation)), "file", Path.GetFileName(path) } };
        using var response = await client.PostAsync($"/api/people/{person}/photos", form, Cancellation);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("uploaded", (await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("state").GetString());
    }

    /// <summary>Polls the person until no photo is waiting or processing.</summary>
    private static Task<JsonElement> WaitForPhotosAsync(HttpClient client, Guid person) =>
        Eventually.PollAsync(() => client.GetFromJsonAsync<JsonElement>($"/api/people/{person}", Cancellation),
            p => p.GetProperty("photos").EnumerateArray().All(photo => photo.GetProperty("state").GetString() is "ready" or "failed"),
            "end to every photo's processing", seconds: 90);

    private static async Task<List<JsonElement>> ScenesAsync(HttpClient client, Guid video) =>
        [.. (await client.GetFromJsonAsync<JsonElement>($"/api/videos/{video}/scenes", Cancellation)).EnumerateArray()];

    private static Task<List<JsonElement>> WaitForScenesAsync(HttpClient client, Guid video, Func<List<JsonElement>, bool> condition, string what) =>
        Eventually.PollAsync(() => ScenesAsync(client, video), condition, what, seconds: 60);

    private static JsonElement SceneAt(List<JsonElement> scenes, double seconds) =>
        scenes.Single(s => s.GetProperty("startSeconds").GetDouble() <= seconds && seconds < s.GetProperty("endSeconds").GetDouble());

    private static int MatchedAt(List<JsonElement> scenes, double seconds, Guid person) =>
        SceneAt(scenes, seconds).GetProperty("faces").EnumerateArray().Count(f => PersonOf(f) == person);

    private static Guid? PersonOf(JsonElement face) =>
        face.GetProperty("personId").ValueKind == JsonValueKind.Null ? null : face.GetProperty("personId").GetGuid();
}
