using System.Net.Http.Json;
using System.Numerics.Tensors;
using System.Text.Json;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;
using Heimdex.Tests.Uploads;
using Npgsql;

namespace Heimdex.Tests.Pipeline;

/// <summary>The understanding stages end to end: a real talk video is uploaded and comes back heard, read, seen and embedded.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class UnderstandingTests(HeimdexGraph graph)
{
    private const string SlideTitle = "Stochastic gradient descent";

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_indexed_talk_has_its_speech_its_slide_text_its_face_and_scene_embeddings()
    {
        using var alice = graph.Client(graph.AliceKey);
        var path = await MediaFactory.SlideThenPhotoAsync(SlideTitle, TestFiles.SharedMedia("faces", "obama_1.jpg"), TestFiles.SharedMedia("audio", "jfk.wav"), 11);
        var id = await VideoUploadTests.UploadAsync(alice, await File.ReadAllBytesAsync(path, Cancellation), "talk.mp4", "A short talk");

        var video = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() is "indexed" or "failed", "indexed", seconds: 300);
        Assert.Equal("indexed", video.GetProperty("state").GetString());

        var transcript = await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}/transcript", Cancellation);
        var segments = transcript.GetProperty("segments").EnumerateArray().ToList();
        Assert.Contains("country", string.Join(' ', segments.Select(s => s.GetProperty("text").GetString())));
        Assert.All(segments, s =>
        {
            Assert.InRange(s.GetProperty("startSeconds").GetDouble(), 0, 11.1);
            Assert.InRange(s.GetProperty("endSeconds").GetDouble(), s.GetProperty("startSeconds").GetDouble(), 11.1);
        });

        var scenes = (await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}/scenes", Cancellation)).EnumerateArray().ToList();
        Assert.Equal(2, scenes.Count);
        var (slide, photo) = (scenes[0], scenes[1]);
        Assert.Contains(slide.GetProperty("onScreenText").EnumerateArray(),
            t => t.GetProperty("text").GetString()!.Contains(SlideTitle, StringComparison.OrdinalIgnoreCase));
        Assert.Empty(slide.GetProperty("faces").EnumerateArray());
        var face = Assert.Single(photo.GetProperty("faces").EnumerateArray());
        Assert.InRange(face.GetProperty("quality").GetSingle(), 0.3f, 1f);
        Assert.InRange(face.GetProperty("x").GetSingle() + face.GetProperty("width").GetSingle() / 2, 500, 780); // the face is in the middle

        var vectors = await SceneVectorsAsync(id);
        Assert.Equal(2, vectors.Count);
        Assert.All(vectors.Values, v => Assert.Equal(SentenceEncoder.Dimensions, v.Length));
        var query = SentenceEncoder.Load(new ModelOptions()).Embed("gradient descent");
        Assert.True(TensorPrimitives.Dot(query, vectors[0]) > TensorPrimitives.Dot(query, vectors[1]) + 0.1,
            "the slide's scene should be nearer to its own subject than the other scene is");
    }

    [Fact]
    public async Task A_worker_killed_mid_transcription_resumes_after_the_last_saved_region_without_duplicates()
    {
        using var alice = graph.Client(graph.AliceKey);
        var path = await MediaFactory.RepeatedSpeechAsync(TestFiles.SharedMedia("audio", "jfk.wav"), times: 10);
        var id = await VideoUploadTests.UploadAsync(alice, await File.ReadAllBytesAsync(path, Cancellation), "long-talk.mp4");
        await PipelineTests.WaitForAsync(alice, id, v => TranscribeProgress(v) is >= 20 and < 70, "transcription under way", seconds: 240);

        await graph.Graph.CrashAsync("worker"); // SIGKILL, mid-transcription

        var video = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() is "indexed" or "failed", "resumed to the end", seconds: 300);
        Assert.Equal("indexed", video.GetProperty("state").GetString());
        Assert.Equal(2, video.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "transcribe").GetProperty("attempt").GetInt32());
        var segments = (await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}/transcript", Cancellation)).GetProperty("segments").EnumerateArray().ToList();
        var starts = segments.Select(s => s.GetProperty("startSeconds").GetDouble()).ToList();
        Assert.Equal(starts.Order(), starts); // resumed where it stopped: no region heard twice
        Assert.All(starts.Zip(starts.Skip(1)), pair => Assert.True(pair.Second > pair.First, $"two segments start at {pair.First:0.00}"));
        Assert.Equal(Enumerable.Range(0, segments.Count), segments.Select(s => s.GetProperty("index").GetInt32()));
        Assert.True(segments[^1].GetProperty("endSeconds").GetDouble() > 95, "the talk was transcribed to its end");
        Assert.All(segments.Zip(segments.Skip(1)), pair => Assert.True(
            pair.Second.GetProperty("startSeconds").GetDouble() - pair.First.GetProperty("endSeconds").GetDouble() < 8,
            $"nothing heard between {pair.First.GetProperty("endSeconds").GetDouble():0.0} s and {pair.Second.GetProperty("startSeconds").GetDouble():0.0} s of continuous speech"));
    }

    private static int TranscribeProgress(JsonElement video) =>
        video.GetProperty("stages").EnumerateArray().Where(s => s.GetProperty("stage").GetString() == "transcribe")
            .Select(s => s.GetProperty("progress").GetInt32()).DefaultIfEmpty(-1).Single();

    [Fact]
    public async Task A_transcript_is_only_shown_to_the_videos_owner()
    {
        using var alice = graph.Client(graph.AliceKey);
        using var bob = graph.Client(graph.BobKey);
        var id = await VideoUploadTests.UploadAsync(alice, await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation), "testvideo.mp4");

        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await bob.GetAsync($"/api/videos/{id}/transcript", Cancellation)).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await alice.GetAsync($"/api/videos/{id}/transcript", Cancellation)).StatusCode);
    }

    private async Task<Dictionary<int, float[]>> SceneVectorsAsync(Guid videoId)
    {
        await using var connection = new NpgsqlConnection(graph.DatabaseConnectionString);
        await connection.OpenAsync(Cancellation);
        await using var command = new NpgsqlCommand(
            """SELECT s."Index", e."Vector" FROM "SceneEmbeddings" e JOIN "Scenes" s ON s."Id" = e."SceneId" WHERE e."VideoId" = $1 AND e."Space" = $2""", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = videoId });
        command.Parameters.Add(new NpgsqlParameter { Value = SentenceEncoder.Space });
        var vectors = new Dictionary<int, float[]>();
        await using var reader = await command.ExecuteReaderAsync(Cancellation);
        while (await reader.ReadAsync(Cancellation))
        {
            vectors[reader.GetInt32(0)] = reader.GetFieldValue<float[]>(1);
        }

        return vectors;
    }
}
