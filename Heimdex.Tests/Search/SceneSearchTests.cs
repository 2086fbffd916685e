using Heimdex.Conventions;
using Heimdex.Search;
using Heimdex.Search.Indexes;
using Heimdex.Shared;
using Heimdex.Shared.Data;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Faces;
using Heimdex.Shared.Models;
using Heimdex.Shared.People;
using Heimdex.Shared.Search;
using Heimdex.Shared.Users;
using Heimdex.Shared.Videos;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Heimdex.Tests.Search;

/// <summary>
/// <see cref="SceneSearch"/> used as the benchmarks use it, in a process of its own (no API): it loads its indexes
/// from the graph's Postgres and ranks one owner's scenes by words, near spellings and meaning, with pages bound to
/// the query.
/// </summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class SceneSearchTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static readonly string[] Kitchen =
    [
        "Knead the dough and let the bread rise overnight before baking it",
        "The football team scored twice in the second half of the match",
        "Planets keep their orbit around the sun because of gravity",
    ];

    [Fact]
    public async Task The_search_service_ranks_one_owners_scenes_by_words_spellings_and_meaning_outside_the_API()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ConnectionNames.Database}"] = graph.DatabaseConnectionString,
            [$"ConnectionStrings:{ConnectionNames.Redis}"] = graph.RedisConnectionString,
        });
        builder.AddHeimdexDatabase();
        builder.AddRedisClient(ConnectionNames.Redis);
        builder.Services.AddOptions<PeopleOptions>();
        builder.Services.AddLoadedModel(_ => SentenceEncoder.Load(new ModelOptions())).AddLoadedModel(_ => new FaceAnalyzer(new ModelOptions()));
        builder.AddSceneSearch();
        using var host = builder.Build();

        Guid owner, otherOwner, otherVideo;
        List<Guid> scenes;
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            var encoder = scope.ServiceProvider.GetRequiredService<LoadedModel<SentenceEncoder>>().Value;
            (owner, scenes, _) = await WriteLibraryAsync(db, encoder, "Kitchen diaries", Kitchen);
            (otherOwner, _, otherVideo) = await WriteLibraryAsync(db, encoder, "Someone else's kitchen", Kitchen);

            var search = scope.ServiceProvider.GetRequiredService<SceneSearch>();
            await Assert.ThrowsAsync<SearchNotReadyException>(() => search.SearchAsync(owner, new SceneQuery("bread"), new ServerTiming(), Cancellation));
        }

        await host.StartAsync(Cancellation);
        var loader = host.Services.GetRequiredService<SceneIndexLoader>();
        await Eventually.PollAsync(() => Task.FromResult(loader.Status), status => status.Loaded, "search indexes loaded", seconds: 60);
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var search = scope.ServiceProvider.GetRequiredService<SceneSearch>();
            async Task<SearchResponse> SearchAsync(SceneQuery query)
            {
                Assert.Empty(await search.ValidateAsync(owner, query, Cancellation));
                return await search.SearchAsync(owner, query, new ServerTiming(), Cancellation);
            }

            var timing = new ServerTiming();
            var byWords = await search.SearchAsync(owner, new SceneQuery("bread dough"), timing, Cancellation);
            Assert.Equal(scenes[0], byWords.Hits[0].SceneId);
            Assert.NotNull(byWords.Hits[0].Score.Lexical);
            Assert.Equal(["bread", "dough"], byWords.Hits[0].Score.MatchedWords!);
            Assert.Matches("^embed;dur=.*, vectors;dur=.*, rank;dur=.*, hits;dur=", timing.ToString());

            var bySpelling = await SearchAsync(new SceneQuery("gravty"));
            Assert.Equal(scenes[2], bySpelling.Hits[0].SceneId);
            Assert.Equal(["gravty → gravity"], bySpelling.Hits[0].Score.CorrectedWords!);

            var byMeaning = await SearchAsync(new SceneQuery("a soccer game with goals"));
            Assert.Equal(scenes[1], byMeaning.Hits[0].SceneId);
            Assert.Null(byMeaning.Hits[0].Score.Lexical);
            Assert.NotNull(byMeaning.Hits[0].Score.Semantic);

            // Filters apply inside the vector search; dates in any offset.
            var yesterday = DateTimeOffset.UtcNow.AddDays(-1).ToOffset(TimeSpan.FromHours(-7));
            Assert.Equal(scenes[1], (await SearchAsync(new SceneQuery("a soccer game with goals", From: yesterday))).Hits[0].SceneId);
            Assert.Empty((await SearchAsync(new SceneQuery("a soccer game with goals", From: yesterday.AddDays(2)))).Hits);
            Assert.Equal(scenes[1], (await SearchAsync(new SceneQuery("a soccer game with goals", VideoId: byWords.Hits[0].VideoId, To: yesterday.AddDays(2)))).Hits[0].SceneId);

            // Pages of one ranking: every scene once, in order, none of another owner's; the cursor serves no other filter.
            var query = new SceneQuery("bread football planets", Limit: 1);
            var seen = new List<Guid>();
            for (var page = await SearchAsync(query); ; page = await SearchAsync(query with { Cursor = page.NextCursor }))
            {
                seen.AddRange(page.Hits.Select(hit => hit.SceneId));
                if (page.NextCursor is null)
                {
                    break;
                }

                Assert.Contains("cursor", (await search.ValidateAsync(owner, query with { Cursor = page.NextCursor, VideoId = byWords.Hits[0].VideoId }, Cancellation)).Keys);
            }

            Assert.Equal(scenes.Order(), seen.Order());
            Assert.Equal((await SearchAsync(query with { Limit = 3 })).Hits.Select(hit => hit.SceneId), seen);

            // Another owner's video is no filter of this owner's, and their identical scenes are never ranked for this owner.
            Assert.Contains("videoId", (await search.ValidateAsync(owner, new SceneQuery("bread", VideoId: otherVideo), Cancellation)).Keys);
            Assert.All((await search.SearchAsync(otherOwner, new SceneQuery("bread dough"), new ServerTiming(), Cancellation)).Hits,
                hit => Assert.Equal(otherVideo, hit.VideoId));
        }

        await host.StopAsync(Cancellation);
    }

    /// <summary>A new user with one indexed video whose scenes say <paramref name="texts"/>, written as the pipeline writes them.</summary>
    private static async Task<(Guid Owner, List<Guid> Scenes, Guid Video)> WriteLibraryAsync(
        HeimdexDbContext db, SentenceEncoder encoder, string title, string[] texts)
    {
        var user = new User { Name = $"direct-search-{Guid.NewGuid():N}" };
        var video = new Video { OwnerId = user.Id, Title = title, OriginalFileName = "kitchen.mp4", ContentType = "video/mp4", DurationSeconds = texts.Length * 10 };
        video.Resume(new HashSet<string>(), DateTimeOffset.UtcNow); // no stages left to run: indexed
        var scenes = texts.Select((text, i) => new Scene { VideoId = video.Id, OwnerId = video.OwnerId, Index = i, StartSeconds = i * 10, EndSeconds = i * 10 + 10, SearchText = text }).ToList();
        db.AddRange(user, video);
        db.Scenes.AddRange(scenes);
        db.SceneEmbeddings.AddRange(scenes.Select(scene =>
            new SceneEmbedding { SceneId = scene.Id, VideoId = video.Id, Space = SentenceEncoder.Space, Vector = encoder.Embed(scene.SearchText!) }));
        await db.SaveChangesAsync(Cancellation);
        await SceneDocuments.UpdateAsync(db, [video.Id], Cancellation);
        return (user.Id, [.. scenes.Select(scene => scene.Id)], video.Id);
    }
}
