using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Heimdex.Search;
using Heimdex.Tests.Pipeline;
using Heimdex.Tests.Uploads;

namespace Heimdex.Tests.Search;

/// <summary>Scene search on indexed real media: words, typos, meaning, pictures, faces, paging and isolation between users.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class SearchTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static async Task<Guid> IndexAsync(HttpClient client, string path, string title)
    {
        var id = await VideoUploadTests.UploadAsync(client, await File.ReadAllBytesAsync(path, Cancellation), Path.GetFileName(path), title);
        var video = await PipelineTests.WaitForAsync(client, id, v => v.GetProperty("state").GetString() is "indexed" or "failed", "indexed", seconds: 300);
        Assert.Equal("indexed", video.GetProperty("state").GetString());
        return id;
    }

    private static async Task<JsonElement> SearchAsync(HttpClient client, string query, string extra = "") =>
        await client.GetFromJsonAsync<JsonElement>($"/api/search?q={Uri.EscapeDataString(query)}{extra}", Cancellation);

    private static async Task<JsonElement> SearchByImageAsync(HttpClient client, string path)
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(path, Cancellation)), "file", Path.GetFileName(path) } };
        using var response = await client.PostAsync("/api/search/image", form, Cancellation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation);
    }

    private static List<JsonElement> Hits(JsonElement response) => [.. response.GetProperty("hits").EnumerateArray()];

    private static List<Guid> SceneIds(List<JsonElement> hits) => [.. hits.Select(h => h.GetProperty("sceneId").GetGuid())];

    [Fact]
    public async Task Words_typos_meaning_pictures_and_faces_find_the_right_scene_of_the_right_video_and_only_the_users_own()
    {
        // A user of its own: other tests index the same media for alice.
        using var alice = graph.Client(await graph.CreateUserAsync($"searcher-{Guid.NewGuid():N}"));
        using var bob = graph.Client(graph.BobKey);
        var talk = await IndexAsync(alice, await MediaFactory.SlideThenPhotoAsync("Stochastic gradient descent with momentum",
            TestFiles.SharedMedia("faces", "obama_1.jpg"), TestFiles.SharedMedia("audio", "jfk.wav"), 11), "Lecture seven");
        var cake = await IndexAsync(alice, await MediaFactory.SlideThenPhotoAsync("Chocolate cake recipes for beginners",
            TestFiles.SharedMedia("faces", "biden_1.jpg"), TestFiles.SharedMedia("audio", "OSR_us_000_0034_8k.wav"), 11), "Baking class");
        var deer = await IndexAsync(alice, TestFiles.TestVideo, "Forest footage");
        var bobs = await IndexAsync(bob, TestFiles.TestVideo, "Bob's forest");

        // Exact words: jfk's scene, at the time the words are said.
        var words = Hits(await SearchAsync(alice, "ask not what your country can do"));
        var top = words[0];
        Assert.Equal(talk, top.GetProperty("videoId").GetGuid());
        var transcript = await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{talk}/transcript", Cancellation);
        var said = transcript.GetProperty("segments").EnumerateArray().Where(s => s.GetProperty("text").GetString()!.Contains("country")).ToList();
        Assert.Contains(said, s => s.GetProperty("startSeconds").GetDouble() < top.GetProperty("endSeconds").GetDouble()
                                   && s.GetProperty("endSeconds").GetDouble() > top.GetProperty("startSeconds").GetDouble());
        Assert.Equal(JsonValueKind.Number, top.GetProperty("score").GetProperty("lexical").ValueKind);
        Assert.Contains("country", top.GetProperty("score").GetProperty("matchedWords").EnumerateArray().Select(w => w.GetString()));
        Assert.Contains("<mark>", top.GetProperty("snippet").GetString());
        Assert.DoesNotContain(Snippets.StartSelector, top.GetProperty("snippet").GetString());
        // It plays from the segment that says the words, not from the scene's start, to the scene's end.
        var spoken = top.GetProperty("spoken");
        Assert.Contains("country", spoken.GetProperty("text").GetString());
        var playFrom = top.GetProperty("playFromSeconds").GetDouble();
        Assert.Equal(Math.Max(spoken.GetProperty("startSeconds").GetDouble(), top.GetProperty("startSeconds").GetDouble()), playFrom, 3);
        Assert.Contains(said, s => Math.Abs(s.GetProperty("startSeconds").GetDouble() - spoken.GetProperty("startSeconds").GetDouble()) < 0.001);
        Assert.EndsWith(FormattableString.Invariant($"#t={playFrom:0.###},{top.GetProperty("endSeconds").GetDouble():0.###}"),
            top.GetProperty("playbackUrl").GetString());
        using var playback = await alice.GetAsync(top.GetProperty("playbackUrl").GetString()!.Split('#')[0], Cancellation);
        Assert.Equal(HttpStatusCode.OK, playback.StatusCode);

        // The time of each part is in Server-Timing; administrators see what the indexes hold, users may not.
        using (var timed = await alice.GetAsync($"/api/search?q={Uri.EscapeDataString("country")}", Cancellation))
        {
            var parts = string.Join(", ", timed.Headers.GetValues("Server-Timing")).Split(", ").Select(p => p.Split(";dur=")[0]);
            Assert.Equal(["embed", "hits", "rank", "vectors"], parts.Order());
        }

        using var admin = graph.Client(graph.AdminKey);
        var status = await admin.GetFromJsonAsync<JsonElement>("/api/search/status", Cancellation);
        Assert.True(status.GetProperty("loaded").GetBoolean());
        Assert.True(status.GetProperty("text").GetProperty("vectors").GetInt32() > 0);
        Assert.True(status.GetProperty("faces").GetProperty("vectors").GetInt32() > 0);
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.GetAsync("/api/search/status", Cancellation)).StatusCode);

        // A typo still finds it: a word the library lacks is corrected to the library's nearest words.
        var typo = Hits(await SearchAsync(alice, "contry"));
        Assert.Equal(talk, typo[0].GetProperty("videoId").GetGuid());
        Assert.Equal(JsonValueKind.Number, typo[0].GetProperty("score").GetProperty("fuzzy").ValueKind);
        Assert.Contains("contry → country", typo[0].GetProperty("score").GetProperty("correctedWords").EnumerateArray().Select(w => w.GetString()));

        // Meaning without a shared word: the optimisation slide, with how alike it is; the baking class is no match.
        var meaning = Hits(await SearchAsync(alice, "optimizing the loss function"));
        Assert.Equal(talk, meaning[0].GetProperty("videoId").GetGuid());
        Assert.Equal(0, meaning[0].GetProperty("sceneIndex").GetInt32());
        Assert.InRange(meaning[0].GetProperty("score").GetProperty("similarity").GetDouble(), SearchOptions.DefaultMinSemanticSimilarity, 1);
        Assert.Empty(meaning[0].GetProperty("score").GetProperty("matchedWords").EnumerateArray());
        Assert.DoesNotContain(meaning, h => h.GetProperty("videoId").GetGuid() == cake);

        // A topic the library does not hold finds nothing, rather than the least unlike scenes.
        Assert.Empty(Hits(await SearchAsync(alice, "volcanic eruptions and lava flows")));

        // Another user's videos never appear, and theirs never appear to us.
        Assert.DoesNotContain(Hits(await SearchAsync(bob, "ask not what your country can do")), h => h.GetProperty("videoId").GetGuid() != bobs);
        Assert.DoesNotContain(Hits(await SearchAsync(alice, "forest footage")), h => h.GetProperty("videoId").GetGuid() == bobs);

        // Pages follow the cursor without repeating a scene; videoId narrows to one video.
        var first = await SearchAsync(alice, "forest footage", "&limit=2");
        var second = await SearchAsync(alice, "forest footage", $"&limit=2&cursor={first.GetProperty("nextCursor").GetString()}");
        // The cursor pages the ranking it came from: with another filter it is refused, not applied to a different list.
        foreach (var otherFilter in (string[])[$"&videoId={cake}", "&from=2020-01-01T00:00:00Z"])
        {
            using var misapplied = await alice.GetAsync($"/api/search?q=forest%20footage&limit=2&cursor={first.GetProperty("nextCursor").GetString()}{otherFilter}", Cancellation);
            Assert.Equal(HttpStatusCode.BadRequest, misapplied.StatusCode);
        }

        Assert.Empty(Hits(first).Select(h => h.GetProperty("sceneId").GetGuid()).Intersect(Hits(second).Select(h => h.GetProperty("sceneId").GetGuid())));
        Assert.All(Hits(await SearchAsync(alice, "country", $"&videoId={cake}")), h => Assert.Equal(cake, h.GetProperty("videoId").GetGuid()));

        // A frame of the deer footage, smaller and recompressed, finds its scene; bob's copy is never among alice's hits.
        var frame = await MediaFactory.FrameAsync(TestFiles.TestVideo, 9.9, width: 320, quality: 25);
        using var image = new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(frame, Cancellation)), "file", "frame.jpg" } };
        var pictures = Hits(await SearchByImageAsync(alice, frame));
        Assert.Equal(deer, pictures[0].GetProperty("videoId").GetGuid());
        Assert.InRange(9.9, pictures[0].GetProperty("startSeconds").GetDouble(), pictures[0].GetProperty("endSeconds").GetDouble());
        Assert.All(pictures, h => Assert.NotEqual(bobs, h.GetProperty("videoId").GetGuid()));
        using var notImage = new MultipartFormDataContent { { new ByteArrayContent("plain text"u8.ToArray()), "file", "frame.jpg" } };
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await alice.PostAsync("/api/search/image", notImage, Cancellation)).StatusCode);

        // A photo of a face finds the scenes showing that person, from a photo that is not in any video: Obama's
        // photo is in the lecture, Biden's in the baking class.
        var obama = await SearchByImageAsync(alice, TestFiles.SharedMedia("faces", "obama_2.jpg"));
        Assert.Equal(1, obama.GetProperty("facesSearched").GetInt32());
        var obamaHits = Hits(obama);
        Assert.NotEmpty(obamaHits);
        Assert.All(obamaHits, h => Assert.Equal(talk, h.GetProperty("videoId").GetGuid()));
        Assert.All(obamaHits, h => Assert.InRange(h.GetProperty("score").GetProperty("face").GetDouble(), 0.4, 1));
        Assert.All(obamaHits, h => Assert.NotEqual(0, h.GetProperty("sceneIndex").GetInt32())); // the slide shows no face
        var both = await SearchByImageAsync(alice, TestFiles.SharedMedia("faces", "obama_and_biden.jpg"));
        Assert.Equal(3, both.GetProperty("facesSearched").GetInt32());
        Assert.Equal(new[] { cake, talk }.Order(), Hits(both).Select(h => h.GetProperty("videoId").GetGuid()).Distinct().Order());
        var noFace = await SearchByImageAsync(alice, await MediaFactory.TextImageAsync("Nobody here"));
        Assert.Equal(0, noFace.GetProperty("facesSearched").GetInt32());
        Assert.All(Hits(noFace), h => Assert.Equal(JsonValueKind.Null, h.GetProperty("score").GetProperty("face").ValueKind));
        Assert.DoesNotContain(Hits(await SearchByImageAsync(bob, TestFiles.SharedMedia("faces", "obama_2.jpg"))),
            h => h.GetProperty("videoId").GetGuid() == talk);

        // A restarted API loads every index again from Postgres: meaning, pictures and faces answer exactly as before.
        await graph.Graph.CrashAndWaitForRestartAsync("api");
        await Eventually.PollAsync(() => admin.GetFromJsonAsync<JsonElement>("/api/search/status", Cancellation),
            s => s.GetProperty("loaded").GetBoolean(), "search indexes loaded", seconds: 60);
        Assert.Equal(SceneIds(meaning), SceneIds(Hits(await SearchAsync(alice, "optimizing the loss function"))));
        Assert.Equal(SceneIds(pictures), SceneIds(Hits(await SearchByImageAsync(alice, frame))));
        Assert.Equal(SceneIds(obamaHits), SceneIds(Hits(await SearchByImageAsync(alice, TestFiles.SharedMedia("faces", "obama_2.jpg")))));

        // Deleted videos leave search.
        Assert.Equal(HttpStatusCode.NoContent, (await alice.DeleteAsync($"/api/videos/{deer}", Cancellation)).StatusCode);
        await Eventually.PollAsync(() => SearchAsync(alice, "Brandon Castellano copyright"),
            r => Hits(r).All(h => h.GetProperty("videoId").GetGuid() != deer), "deleted video gone from search", seconds: 30);
    }

    /// <summary>
    /// An API hears of changed videos through Redis messages, lost if its subscription drops at that moment. Here the
    /// changes come with no message at all — a video's pictures removed from Postgres, then put back, its row touched
    /// as a reprocess would — and search follows them within the reconcile interval (2 s in this graph).
    /// </summary>
    [Fact]
    public async Task Changes_whose_announcement_was_lost_reach_search_through_the_reconcile()
    {
        using var carol = graph.Client(await graph.CreateUserAsync("carol"));
        var clip = await MediaFactory.ShotsAsync(shots: 2, shotSeconds: 2);
        var id = await IndexAsync(carol, clip, "Two shots");
        var frame = await MediaFactory.FrameAsync(clip, 1, width: 640, quality: 2);
        Assert.NotEmpty(Hits(await SearchByImageAsync(carol, frame)));

        var kept = $"frames_{id:N}";
        await graph.ExecuteSqlAsync($"CREATE TABLE \"{kept}\" AS SELECT * FROM \"SceneFrames\" WHERE \"VideoId\" = '{id}'");
        await graph.ExecuteSqlAsync("DELETE FROM \"SceneFrames\" WHERE \"VideoId\" = $1", id);
        await graph.ExecuteSqlAsync("UPDATE \"Videos\" SET \"UpdatedAt\" = now() WHERE \"Id\" = $1", id);
        await Eventually.PollAsync(() => SearchByImageAsync(carol, frame), r => Hits(r).Count == 0, "the removed pictures gone from search", seconds: 20);

        await graph.ExecuteSqlAsync($"INSERT INTO \"SceneFrames\" SELECT * FROM \"{kept}\"");
        await graph.ExecuteSqlAsync($"DROP TABLE \"{kept}\"");
        await graph.ExecuteSqlAsync("UPDATE \"Videos\" SET \"UpdatedAt\" = now() WHERE \"Id\" = $1", id);
        await Eventually.PollAsync(() => SearchByImageAsync(carol, frame), r => Hits(r).Count > 0, "the restored pictures back in search", seconds: 20);
    }

    [Fact]
    public async Task A_query_that_cannot_be_searched_is_refused_with_the_reason()
    {
        using var alice = graph.Client(graph.AliceKey);

        using var empty = await alice.GetAsync("/api/search?q=%20", Cancellation);
        using var cursor = await alice.GetAsync("/api/search?q=cake&cursor=bm90LWEtY3Vyc29y", Cancellation);
        using var backwards = await alice.GetAsync("/api/search?q=cake&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", Cancellation);
        using var strangers = await alice.GetAsync($"/api/search?q=cake&videoId={Guid.NewGuid()}&personId={Guid.NewGuid()}", Cancellation);

        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, cursor.StatusCode);
        Assert.Contains("cursor", await cursor.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(HttpStatusCode.BadRequest, backwards.StatusCode);
        Assert.True((await backwards.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("errors").TryGetProperty("to", out _));
        Assert.Equal(HttpStatusCode.BadRequest, strangers.StatusCode);
        var errors = (await strangers.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("videoId", out _) && errors.TryGetProperty("personId", out _), errors.ToString());
    }
}
