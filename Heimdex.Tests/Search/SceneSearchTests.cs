using System.Runtime.CompilerServices;
using System.Text.Json;
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
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

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
        using var host = BuildSearchHost();
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

        await StartAsync(host);
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
            Assert.Equal(["embed", "hits", "rank", "vectors"], timing.ToString().Split(", ").Select(part => part.Split(";dur=")[0]).Order());

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

    [Fact]
    public async Task A_scene_deleted_while_the_index_still_holds_it_takes_no_place_on_a_page()
    {
        using var host = BuildSearchHost();
        Guid owner;
        List<Guid> scenes;
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            (owner, scenes, _) = await WriteLibraryAsync(db, scope.ServiceProvider.GetRequiredService<LoadedModel<SentenceEncoder>>().Value, "Match day",
            [
                "The football team scored twice in the second half of the match",
                "The striker kicked the ball past the keeper into the net",
                "The midfielder passed the ball and the forward scored",
            ]);
        }

        await StartAsync(host);
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var search = scope.ServiceProvider.GetRequiredService<SceneSearch>();
            var query = new SceneQuery("a soccer game with goals", Limit: 2);
            var before = await search.SearchAsync(owner, query with { Limit = 3 }, new ServerTiming(), Cancellation);
            Assert.Equal(scenes.Order(), before.Hits.Select(hit => hit.SceneId).Order());
            Assert.All(before.Hits, hit => Assert.Null(hit.Score.Lexical)); // found by meaning alone, in the vector index

            // Deleted in Postgres with no word to the index, as between a video's deletion and the index's reload:
            // the page holds the two best scenes that still exist, and nothing is left for a next page.
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            await db.Scenes.Where(scene => scene.Id == before.Hits[0].SceneId).ExecuteDeleteAsync(Cancellation);
            var after = await search.SearchAsync(owner, query, new ServerTiming(), Cancellation);
            Assert.Equal(before.Hits.Skip(1).Select(hit => hit.SceneId), after.Hits.Select(hit => hit.SceneId));
            Assert.Null(after.NextCursor);
        }

        await host.StopAsync(Cancellation);
    }

    [Fact]
    public async Task A_restarted_search_reads_its_vectors_from_its_snapshot_and_from_Postgres_only_the_videos_changed_since()
    {
        var snapshots = Directory.CreateTempSubdirectory("heimdex-vectors-snapshot-").FullName;
        try
        {
            const string Replacement = "The orchestra rehearsed the symphony in the concert hall";
            const string Late = "Bees gathered nectar from the lavender field";
            Guid owner;
            Dictionary<string, (Guid Video, List<Guid> Scenes)> videos = [];
            using (var first = BuildSearchHost(snapshots))
            {
                await using (var scope = first.Services.CreateAsyncScope())
                {
                    var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
                    var encoder = scope.ServiceProvider.GetRequiredService<LoadedModel<SentenceEncoder>>().Value;
                    (owner, var scenes, var video) = await WriteLibraryAsync(db, encoder, "Kept", [Kitchen[0]]);
                    videos["kept"] = (video, scenes);
                    foreach (var (name, text) in new[]
                    {
                        ("replaced", Kitchen[1]), ("deleted", Kitchen[2]), ("street", "Rain fell on the quiet street at night"),
                        ("harbour", "Fishing boats returned to the harbour at dawn"), ("garden", "She planted tomatoes in the garden"),
                    })
                    {
                        (scenes, video) = await WriteVideoAsync(db, owner, name, [text], encoder);
                        videos[name] = (video, scenes);
                    }
                }

                await StartAsync(first);
                var loader = first.Services.GetRequiredService<SceneIndexLoader>();
                Assert.Equal(0, loader.Status.VectorsFromSnapshot);
                await Eventually.PollAsync(() => Task.FromResult(loader.Status), status => status.SnapshotsSaved >= 1, "the vectors saved", seconds: 60);

                // A video indexed after that save while the API runs is in the save made when it stops: one change among
                // six videos or more is not a fifth of them, and no reconcile has run yet.
                await using (var scope = first.Services.CreateAsyncScope())
                {
                    var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
                    var (scenes, video) = await WriteVideoAsync(db, owner, "late", [Late], scope.ServiceProvider.GetRequiredService<LoadedModel<SentenceEncoder>>().Value);
                    videos["late"] = (video, scenes);
                    await SceneChanges.PublishAsync(scope.ServiceProvider.GetRequiredService<IConnectionMultiplexer>(), video);
                }

                var (held, sentences) = (first.Services.GetRequiredService<SceneIndexes>().Text, first.Services.GetRequiredService<LoadedModel<SentenceEncoder>>().Value);
                await Eventually.PollAsync(() => Task.FromResult(held.Search(owner, sentences.Embed(Late), 1)),
                    hits => hits.Count == 1 && hits[0].SceneId == videos["late"].Scenes[0], "the late video searched", seconds: 30);
                Assert.Equal(1, loader.Status.SnapshotsSaved);
                await first.StopAsync(Cancellation);

                // While no search runs: one video re-embedded (as its embed stage does it again), one deleted, one added.
                await using var editing = first.Services.CreateAsyncScope();
                var database = editing.ServiceProvider.GetRequiredService<HeimdexDbContext>();
                var embedder = editing.ServiceProvider.GetRequiredService<LoadedModel<SentenceEncoder>>().Value;
                await ReEmbedAsync(database, videos["replaced"].Video, videos["replaced"].Scenes[0], Replacement, embedder);
                await database.Videos.Where(v => v.Id == videos["deleted"].Video).ExecuteDeleteAsync(Cancellation);
                var (addedScenes, added) = await WriteVideoAsync(database, owner, "added", ["Fresh snow covered the mountain pass overnight"], embedder);
                videos["added"] = (added, addedScenes);
            }

            async Task<SearchIndexStatus> StartSearchAndStopAsync(IHost host, Action<SceneVectorIndex, SentenceEncoder> search)
            {
                await StartAsync(host);
                search(host.Services.GetRequiredService<SceneIndexes>().Text, host.Services.GetRequiredService<LoadedModel<SentenceEncoder>>().Value);
                var status = host.Services.GetRequiredService<SceneIndexLoader>().Status;
                await host.StopAsync(Cancellation);
                return status;
            }

            void SearchesTheLibraryAsItIsNow(SceneVectorIndex text, SentenceEncoder encoder)
            {
                (Guid SceneId, float Similarity) Nearest(string sentence) => text.Search(owner, encoder.Embed(sentence), 1).Single();
                Assert.Equal(videos["kept"].Scenes[0], Nearest(Kitchen[0]).SceneId);
                Assert.Equal(videos["late"].Scenes[0], Nearest(Late).SceneId);
                Assert.Equal(videos["added"].Scenes[0], Nearest("Fresh snow covered the mountain pass overnight").SceneId);
                var replaced = Nearest(Replacement);
                Assert.Equal(videos["replaced"].Scenes[0], replaced.SceneId);
                Assert.True(replaced.Similarity > 0.99f, $"the replaced video's vector is its new one: {replaced.Similarity}");
                Assert.True(Nearest(Kitchen[1]).Similarity < 0.9f, "the replaced video's old vector is gone");
                Assert.DoesNotContain(text.Search(owner, encoder.Embed(Kitchen[2]), 10), hit => hit.SceneId == videos["deleted"].Scenes[0]);
            }

            using (var second = BuildSearchHost(snapshots))
            {
                // Read from Postgres: the two videos changed since the API stopped, and every video not indexed (never saved).
                var notIndexed = await VectorsOfVideosNotIndexedAsync(second);
                var status = await StartSearchAndStopAsync(second, SearchesTheLibraryAsItIsNow);
                Assert.Equal(2 + notIndexed, status.VectorsLoaded - status.VectorsFromSnapshot);
                Assert.True(status.VectorsFromSnapshot > 0);
            }

            // A damaged snapshot is not read at all: everything comes from Postgres, and search is as right.
            var file = Directory.GetFiles(snapshots, "*.snapshot").Single();
            var bytes = await File.ReadAllBytesAsync(file, Cancellation);
            bytes[bytes.Length / 2] ^= 0xFF;
            await File.WriteAllBytesAsync(file, bytes, Cancellation);
            using (var third = BuildSearchHost(snapshots))
            {
                var status = await StartSearchAndStopAsync(third, SearchesTheLibraryAsItIsNow);
                Assert.Equal(0, status.VectorsFromSnapshot);
                Assert.Equal(status.VectorsToLoad, status.VectorsLoaded);
            }
        }
        finally
        {
            Directory.Delete(snapshots, recursive: true);
        }
    }

    [Fact]
    public async Task A_video_whose_change_was_announced_to_no_one_is_saved_to_the_snapshot_by_the_reconcile_that_reloads_it()
    {
        var snapshots = Directory.CreateTempSubdirectory("heimdex-vectors-snapshot-").FullName;
        try
        {
            const string Replacement = "The glacier calved a wall of ice into the fjord";
            Guid owner, changed, changedScene;
            using (var first = BuildSearchHost(snapshots, reconcileInterval: TimeSpan.FromSeconds(1)))
            {
                await using (var scope = first.Services.CreateAsyncScope())
                {
                    // Six videos or more: one change is not a fifth of them, so nothing but the reconcile saves it.
                    var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
                    var encoder = scope.ServiceProvider.GetRequiredService<LoadedModel<SentenceEncoder>>().Value;
                    (owner, var scenes, changed) = await WriteLibraryAsync(db, encoder, "Changed", [Kitchen[0]]);
                    changedScene = scenes[0];
                    foreach (var other in Kitchen.Skip(1).Concat(["Rain fell on the quiet street at night", "She planted tomatoes in the garden",
                                 "Fishing boats returned to the harbour at dawn", "The choir sang carols by candlelight"]))
                    {
                        await WriteVideoAsync(db, owner, "other", [other], encoder);
                    }
                }

                await StartAsync(first);
                var loader = first.Services.GetRequiredService<SceneIndexLoader>();
                var loaded = await Eventually.PollAsync(() => Task.FromResult(loader.Status), status => status.SnapshotsSaved >= 1, "the vectors saved", seconds: 60);

                // Re-embedded in Postgres with no message to the API, as when its subscription dropped at that moment.
                await using (var scope = first.Services.CreateAsyncScope())
                {
                    await ReEmbedAsync(scope.ServiceProvider.GetRequiredService<HeimdexDbContext>(), changed, changedScene, Replacement,
                        scope.ServiceProvider.GetRequiredService<LoadedModel<SentenceEncoder>>().Value);
                }

                var (held, sentences) = (first.Services.GetRequiredService<SceneIndexes>().Text, first.Services.GetRequiredService<LoadedModel<SentenceEncoder>>().Value);
                await Eventually.PollAsync(() => Task.FromResult(held.Search(owner, sentences.Embed(Replacement), 1)),
                    hits => hits.Count == 1 && hits[0].SceneId == changedScene && hits[0].Similarity > 0.99f, "the change reloaded by the reconcile", seconds: 30);
                await Eventually.PollAsync(() => Task.FromResult(loader.Status), status => status.SnapshotsSaved > loaded.SnapshotsSaved,
                    "the reloaded video saved while the API runs", seconds: 30);
                await first.StopAsync(Cancellation);
            }

            using var second = BuildSearchHost(snapshots);
            var notIndexed = await VectorsOfVideosNotIndexedAsync(second);
            await StartAsync(second);
            var restarted = second.Services.GetRequiredService<SceneIndexLoader>().Status;
            var (text, embedder) = (second.Services.GetRequiredService<SceneIndexes>().Text, second.Services.GetRequiredService<LoadedModel<SentenceEncoder>>().Value);
            var nearest = text.Search(owner, embedder.Embed(Replacement), 1).Single();
            Assert.Equal(changedScene, nearest.SceneId);
            Assert.True(nearest.Similarity > 0.99f, $"the snapshot holds the video's new vector: {nearest.Similarity}");
            Assert.Equal(await VectorsOfVideosNotIndexedAsync(second), restarted.VectorsLoaded - restarted.VectorsFromSnapshot);
            await second.StopAsync(Cancellation);
        }
        finally
        {
            Directory.Delete(snapshots, recursive: true);
        }
    }

    [Fact]
    public async Task A_search_repeated_on_a_connection_runs_statements_it_prepared_there_once()
    {
        using var host = BuildSearchHost();
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
        var (owner, scenes, video) = await WriteLibraryAsync(db, scope.ServiceProvider.GetRequiredService<LoadedModel<SentenceEncoder>>().Value, "Prepared kitchen", Kitchen);
        await StartAsync(host);
        await db.Database.OpenConnectionAsync(Cancellation); // the scope's searches all run on this connection
        // Npgsql prepares a statement the second time a connection runs it, and runs it unprepared while its parameters'
        // types differ from those it was prepared with. (A pooled connection may have prepared them for an earlier test.)
        async Task<(long Ranking, long Hits)> PreparedRunsAsync()
        {
            var prepared = await db.Database.SqlQueryRaw<PreparedStatement>(
                "SELECT statement AS \"Statement\", generic_plans + custom_plans AS \"Runs\" FROM pg_prepared_statements WHERE NOT from_sql").ToListAsync(Cancellation);
            long Runs(string part) => prepared.SingleOrDefault(p => p.Statement.Contains(part, StringComparison.Ordinal))?.Runs ?? 0;
            return (Runs("every_word AS"), Runs("ts_headline"));
        }

        var before = await PreparedRunsAsync();
        var search = scope.ServiceProvider.GetRequiredService<SceneSearch>();
        // With and without each filter, and with and without uncommon words: a value left out is still a value of
        // its type to the statement, which stays the one prepared.
        SceneQuery[] queries =
        [
            new("bread dough"), new("football match", VideoId: video), new("sun orbit", From: DateTimeOffset.UtcNow.AddDays(-1)),
            new("bread", To: DateTimeOffset.UtcNow.AddDays(1)), new("football match"), new("bread dough", VideoId: video, From: DateTimeOffset.UtcNow.AddDays(-1)),
        ];
        foreach (var query in queries.Concat(queries))
        {
            Assert.NotEmpty((await search.SearchAsync(owner, query, new ServerTiming(), Cancellation)).Hits);
        }

        var after = await PreparedRunsAsync();
        var searches = queries.Length * 2;
        Assert.InRange(after.Ranking - before.Ranking, searches - 1, searches);
        Assert.InRange(after.Hits - before.Hits, searches - 1, searches);
        Assert.Equal(scenes[0], (await search.SearchAsync(owner, new SceneQuery("bread dough"), new ServerTiming(), Cancellation)).Hits[0].SceneId);
        await host.StopAsync(Cancellation);
    }

    [Fact]
    public async Task Common_words_are_read_from_the_statistics_once_per_refresh_interval()
    {
        var clock = new ManualClock();
        await using var dataSource = NpgsqlDataSource.Create(graph.DatabaseConnectionString);
        using var commonWords = new CommonWords(dataSource, Options.Create(new SearchOptions { CommonWordsRefresh = TimeSpan.FromMinutes(1) }), clock);

        var first = await commonWords.GetAsync(Cancellation);
        Assert.All(first.Values, scenes => Assert.True(scenes > SceneSearch.CommonWordScenes));
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Same(first, await commonWords.GetAsync(Cancellation));
        clock.Advance(TimeSpan.FromSeconds(1));
        var again = await commonWords.GetAsync(Cancellation);
        Assert.NotSame(first, again);
        Assert.Same(again, await commonWords.GetAsync(Cancellation));
    }

    private sealed record PreparedStatement(string Statement, long Runs);

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    [Fact]
    public async Task Words_rank_the_best_of_all_an_owners_matching_scenes_not_the_first_found()
    {
        using var host = BuildSearchHost();
        var owner = new User { Name = $"ranked-search-{Guid.NewGuid():N}" };
        List<Guid> about;
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            db.Add(owner);
            // Thousands of scenes mention the harbour in passing, many more than a ranking takes; the ten about it
            // come last, where a search that ranks only the first matches it finds never looks.
            var random = new Random(11);
            string[] errands = ["market", "fishermen", "nets", "boats", "weather", "ropes", "gulls", "crates", "tide", "bakery", "lanterns", "cargo"];
            await WriteVideoAsync(db, owner.Id, "Port diaries",
                [.. Enumerable.Range(0, 6_000).Select(_ => $"{string.Join(' ', random.GetItems(errands, 10))} by the harbour")], encoder: null);
            (about, _) = await WriteVideoAsync(db, owner.Id, "More port diaries",
                [.. Enumerable.Range(1, 10).Select(i => $"Harbour pilots steer ships through the harbour; the harbour master keeps harbour {i} open")], encoder: null);
        }

        await StartAsync(host);
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var search = scope.ServiceProvider.GetRequiredService<SceneSearch>();
            async Task AssertBestFoundAsync()
            {
                var top = await search.SearchAsync(owner.Id, new SceneQuery("harbour", Limit: 10), new ServerTiming(), Cancellation);
                Assert.Equal(about.Order(), top.Hits.Select(hit => hit.SceneId).Order());
                var withSomeWords = await search.SearchAsync(owner.Id, new SceneQuery("harbour lighthouse", Limit: 10), new ServerTiming(), Cancellation);
                Assert.Equal(about.Order(), withSomeWords.Hits.Select(hit => hit.SceneId).Order());
            }

            // Once PostgreSQL's statistics count "harbour" as a common word, its scenes are drawn last, yet still the best of them.
            await AssertBestFoundAsync();
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            await db.Database.ExecuteSqlRawAsync("ANALYZE \"Scenes\"", Cancellation);
            var common = await host.Services.GetRequiredService<CommonWords>().GetAsync(Cancellation);
            Assert.InRange(common.GetValueOrDefault("harbour"), SceneSearch.CommonWordScenes, 100_000);
            await AssertBestFoundAsync();
        }

        await host.StopAsync(Cancellation);
    }

    [Fact]
    public async Task A_phrase_of_common_words_draws_scenes_by_its_rarest_word_before_its_most_repeated()
    {
        using var host = BuildSearchHost();
        var owner = new User { Name = $"ferry-search-{Guid.NewGuid():N}" };
        List<Guid> both, ferries;
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            db.Add(owner);
            // Both words are common; "harbour" is the more common and repeated in its scenes, so ranking every scene
            // with either word puts scenes that only say "harbour" three times above those with both words.
            var random = new Random(17);
            string[] errands = ["market", "fishermen", "nets", "weather", "ropes", "gulls", "crates", "tide", "bakery", "cargo"];
            string Errands() => string.Join(' ', random.GetItems(errands, 6));
            await WriteVideoAsync(db, owner.Id, "Quay log",
                [.. Enumerable.Range(0, 7_000).Select(_ => $"{Errands()} harbour, the harbour, by the harbour")], encoder: null);
            (ferries, _) = await WriteVideoAsync(db, owner.Id, "Deck log", [.. Enumerable.Range(0, 5_600).Select(_ => $"{Errands()} on the ferry")], encoder: null);
            (both, _) = await WriteVideoAsync(db, owner.Id, "Crossings",
                [.. Enumerable.Range(1, 20).Select(i => $"The ferry leaves the harbour at {i} o'clock")], encoder: null);
            await db.Database.ExecuteSqlRawAsync("ANALYZE \"Scenes\"", Cancellation);
        }

        await StartAsync(host);
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var search = scope.ServiceProvider.GetRequiredService<SceneSearch>();
            var common = await host.Services.GetRequiredService<CommonWords>().GetAsync(Cancellation);
            Assert.Contains("harbour", common.Keys);
            Assert.Contains("ferri", common.Keys);

            var found = await search.SearchAsync(owner.Id, new SceneQuery("harbour ferry", Limit: 40), new ServerTiming(), Cancellation);
            Assert.Equal(both.Order(), found.Hits.Take(20).Select(hit => hit.SceneId).Order());
            // After the scenes with both words come scenes with the rarer one, not those repeating the commoner.
            Assert.All(found.Hits.Skip(20), hit => Assert.Contains(hit.SceneId, ferries));
        }

        await host.StopAsync(Cancellation);
    }

    [Fact]
    public async Task A_typo_is_corrected_from_the_callers_words_that_share_its_trigrams_not_by_comparing_every_word()
    {
        using var host = BuildSearchHost();
        var (owner, other) = (new User { Name = $"typo-search-{Guid.NewGuid():N}" }, new User { Name = $"other-vocabulary-{Guid.NewGuid():N}" });
        List<Guid> scenes;
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            db.AddRange(owner, other);
            var random = new Random(23);
            // Made-up words of letters "lighthouse" lacks: none shares a trigram with the typo, so only it can correct it.
            const string Letters = "abcdfjkmnpqrvwxyz";
            string Word() => new([.. Enumerable.Range(0, random.Next(5, 10)).Select(_ => Letters[random.Next(Letters.Length)])]);
            string[] Sentences(int count) => [.. Enumerable.Range(0, count).Select(_ => string.Join(' ', Enumerable.Range(0, 10).Select(_ => Word())))];
            await WriteVideoAsync(db, other.Id, "Vocabulary", Sentences(2_000), encoder: null);
            // Analysed before the owner's words arrive, as when a user has uploaded since autovacuum last analysed:
            // the statistics do not know the owner, and estimate few words for them.
            await db.Database.ExecuteSqlRawAsync("ANALYZE \"SearchWords\"", Cancellation);
            (scenes, _) = await WriteVideoAsync(db, owner.Id, "Vocabulary", [.. Sentences(2_000), "The lighthouse keeper"], encoder: null);
        }

        await StartAsync(host);
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var search = scope.ServiceProvider.GetRequiredService<SceneSearch>();
            var found = await search.SearchAsync(owner.Id, new SceneQuery("lighthuose"), new ServerTiming(), Cancellation);
            Assert.Equal(scenes[^1], found.Hits[0].SceneId);
            Assert.Contains("lighthuose → lighthouse", found.Hits[0].Score.CorrectedWords!);

            // The owner has about 20,000 words (a large library's vocabulary), all owners 40,000; the lookup reads the
            // owner's words that share enough trigrams with the typo, not every word of theirs or of everyone's,
            // whether or not the statistics know the owner yet.
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            await AssertTheLookupReadsTheOwnersWordsSharingTrigramsAsync();
            await db.Database.ExecuteSqlRawAsync("ANALYZE \"SearchWords\"", Cancellation);
            await AssertTheLookupReadsTheOwnersWordsSharingTrigramsAsync();

            async Task AssertTheLookupReadsTheOwnersWordsSharingTrigramsAsync()
            {
                var (rows, pages) = await IndexScanAsync(db, "IX_SearchWords_OwnerId_Word", $"""
                    SELECT w."Word" FROM "SearchWords" w WHERE w."OwnerId" = {owner.Id} AND w."Word" % 'lighthuose'
                    ORDER BY similarity(w."Word", 'lighthuose') DESC, w."Word" LIMIT 3
                    """);
                Assert.InRange(rows, 1, 40);
                // Right after the words were written, too: no pending list of them to read (483 pages with one, 27 without).
                Assert.InRange(pages, 1, 100);
            }
        }

        await host.StopAsync(Cancellation);
    }

    [Fact]
    public async Task Scenes_with_every_query_word_are_found_without_reading_every_scene_written_since_the_index_last_merged()
    {
        using var host = BuildSearchHost();
        var owner = new User { Name = $"every-word-{Guid.NewGuid():N}" };
        // Words no other scene has, so the index's entries for them are this scene's alone and whatever else the
        // lookup reads is the pending list.
        var (beacon, keeper) = ($"beacon{owner.Id:N}", $"keeper{owner.Id:N}");
        List<Guid> scenes;
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            db.Add(owner);
            var random = new Random(29);
            const string Letters = "abcdfgjkmnpqrvwxyz";
            string Word() => new([.. Enumerable.Range(0, random.Next(4, 9)).Select(_ => Letters[random.Next(Letters.Length)])]);
            // Written just now, so the scenes' GIN index holds them in its pending list until it is merged.
            (scenes, _) = await WriteVideoAsync(db, owner.Id, "Field notes",
                [.. Enumerable.Range(0, 4_000).Select(_ => string.Join(' ', Enumerable.Range(0, 10).Select(_ => Word()))), $"The log of {beacon} kept by {keeper}"],
                encoder: null);
        }

        await StartAsync(host);
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var search = scope.ServiceProvider.GetRequiredService<SceneSearch>();
            var found = await search.SearchAsync(owner.Id, new SceneQuery($"{beacon} {keeper}"), new ServerTiming(), Cancellation);
            Assert.Equal(scenes[^1], Assert.Single(found.Hits).SceneId);

            // The index's lookup of both words reads its entries for them and its whole pending list, whoever's scenes
            // that holds: at the default 4 MB, 197 pages for the 4,000 scenes, against 12 merged at 256 kB. Measured on
            // the words alone, with table scans off, because for the owner's condition the planner may as well take
            // the owner's btree (it does, depending on what other tests wrote), and then no lookup is measured at all.
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync(Cancellation);
            await db.Database.ExecuteSqlRawAsync("SET LOCAL enable_seqscan = off", Cancellation);
            var (rows, pages) = await IndexScanAsync(db, "IX_Scenes_OwnerId_Document", $"""
                SELECT "Id" FROM "Scenes" WHERE "Document" @@ websearch_to_tsquery('english', {$"{beacon} {keeper}"})
                """);
            Assert.Equal(1, rows);
            Assert.InRange(pages, 1, 60);
        }

        await host.StopAsync(Cancellation);
    }

    [Fact]
    public async Task A_small_library_ranks_its_words_from_its_own_entries_of_the_index_not_every_owners()
    {
        using var host = BuildSearchHost();
        var (few, many) = (new User { Name = $"few-lighthouses-{Guid.NewGuid():N}" }, new User { Name = $"many-lighthouses-{Guid.NewGuid():N}" });
        List<Guid> keepers;
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            db.AddRange(few, many);
            (keepers, _) = await WriteVideoAsync(db, few.Id, "Coast notes",
                ["The lighthouse keeper climbs the stairs at dusk", "A lighthouse keeper trims the wick", "Gulls circle the cliffs"], encoder: null);
            await WriteVideoAsync(db, many.Id, "Coastal survey",
                [.. Enumerable.Range(0, 8_000).Select(i => $"Survey {i}: the lighthouse keeper logs the weather at the lighthouse")], encoder: null);
        }

        await StartAsync(host);
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var search = scope.ServiceProvider.GetRequiredService<SceneSearch>();
            var found = await search.SearchAsync(few.Id, new SceneQuery("lighthouse keeper"), new ServerTiming(), Cancellation);
            Assert.Equal(keepers[..2].Order(), found.Hits.Select(hit => hit.SceneId).Order());

            // Ranking reads the index's entries of the owner's words: the small library's entries are its own, not
            // the large one's thousands of scenes with the same word, which are read only for the large library.
            var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
            Task<(long Rows, long Pages)> RankingScanAsync(Guid owner) => IndexScanAsync(db, "IX_Scenes_OwnerWords", $"""
                SELECT "Id" FROM "Scenes"
                WHERE "OwnerWords" @@ scene_owner_query(to_tsquery('english', 'lighthouse'), {owner})
                ORDER BY "OwnerWords" <=> scene_owner_query(to_tsquery('english', 'lighthouse'), {owner})
                LIMIT 200
                """);

            var (smallRows, smallBlocks) = await RankingScanAsync(few.Id);
            var (largeRows, largeBlocks) = await RankingScanAsync(many.Id);
            Assert.Equal(2L, smallRows);
            Assert.Equal(200L, largeRows);
            Assert.True(smallBlocks * 4 < largeBlocks, $"the small library's ranking read {smallBlocks} blocks, the large one's {largeBlocks}");
        }

        await host.StopAsync(Cancellation);
    }

    /// <summary>
    /// The rows and pages (of shared buffers, hit or read) of the scan through <paramref name="index"/> in the plan
    /// PostgreSQL ran <paramref name="query"/> by; fails with the plan when it did not use the index.
    /// </summary>
    private static async Task<(long Rows, long Pages)> IndexScanAsync(HeimdexDbContext db, string index, FormattableString query)
    {
        var explain = FormattableStringFactory.Create($"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query.Format}", query.GetArguments());
        var plan = (await db.Database.SqlQuery<string>(explain).ToListAsync(Cancellation)).Single();
        static IEnumerable<JsonElement> Nodes(JsonElement node) =>
            node.TryGetProperty("Plans", out var children) ? [node, .. children.EnumerateArray().SelectMany(Nodes)] : [node];
        var scan = Nodes(JsonDocument.Parse(plan).RootElement[0].GetProperty("Plan"))
            .SingleOrDefault(node => node.TryGetProperty("Index Name", out var name) && name.GetString() == index);
        Assert.True(scan.ValueKind != JsonValueKind.Undefined, plan);
        return (scan.GetProperty("Actual Rows").GetInt64(), scan.GetProperty("Shared Hit Blocks").GetInt64() + scan.GetProperty("Shared Read Blocks").GetInt64());
    }

    /// <summary>
    /// A process of its own that searches the graph's database, as the benchmarks do; its indexes load once it starts,
    /// from <paramref name="snapshotDirectory"/> as far as it can when one is given.
    /// </summary>
    private IHost BuildSearchHost(string? snapshotDirectory = null, TimeSpan? reconcileInterval = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ConnectionNames.Database}"] = graph.DatabaseConnectionString,
            [$"ConnectionStrings:{ConnectionNames.Redis}"] = graph.RedisConnectionString,
            // The tests analyse the scenes and search at once: the common words are read again for every search.
            [$"{SearchOptions.Section}:{nameof(SearchOptions.CommonWordsRefresh)}"] = "00:00:00",
            [$"{SearchOptions.Section}:{nameof(SearchOptions.SnapshotDirectory)}"] = snapshotDirectory,
            [$"{SearchOptions.Section}:{nameof(SearchOptions.ReconcileInterval)}"] = (reconcileInterval ?? new SearchOptions().ReconcileInterval).ToString(),
        });
        builder.AddHeimdexDatabase();
        builder.AddRedisClient(ConnectionNames.Redis);
        builder.Services.AddOptions<PeopleOptions>();
        builder.Services.AddLoadedModel(_ => SentenceEncoder.Load(new ModelOptions())).AddLoadedModel(_ => new FaceAnalyzer(new ModelOptions()));
        builder.AddSceneSearch();
        return builder.Build();
    }

    /// <summary>
    /// The one-scene video's sentence embedding replaced by that of <paramref name="text"/> and its version moved on, as
    /// its embed stage run again leaves it.
    /// </summary>
    private static async Task ReEmbedAsync(HeimdexDbContext db, Guid videoId, Guid sceneId, string text, SentenceEncoder encoder)
    {
        var video = await db.Videos.SingleAsync(v => v.Id == videoId, Cancellation);
        await db.SceneEmbeddings.Where(e => e.VideoId == videoId).ExecuteDeleteAsync(Cancellation);
        db.SceneEmbeddings.Add(new SceneEmbedding { SceneId = sceneId, VideoId = videoId, Space = SentenceEncoder.Space, Vector = encoder.Embed(text) });
        video.UpdatedAt = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(Cancellation);
    }

    /// <summary>The vectors of videos not indexed, which a snapshot never holds: a starting search reads them from Postgres.</summary>
    private static async Task<long> VectorsOfVideosNotIndexedAsync(IHost host)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
        var notIndexed = db.Videos.Where(v => v.State != VideoState.Indexed).Select(v => v.Id);
        return await db.SceneEmbeddings.LongCountAsync(e => SentenceEncoder.Spaces.Contains(e.Space) && notIndexed.Contains(e.VideoId), Cancellation)
               + await db.SceneFrames.LongCountAsync(f => notIndexed.Contains(f.VideoId), Cancellation)
               + await db.Faces.LongCountAsync(f => notIndexed.Contains(f.VideoId), Cancellation);
    }

    private static async Task StartAsync(IHost host)
    {
        await host.StartAsync(Cancellation);
        var loader = host.Services.GetRequiredService<SceneIndexLoader>();
        await Eventually.PollAsync(() => Task.FromResult(loader.Status), status => status.Loaded, "search indexes loaded", seconds: 60);
    }

    /// <summary>A new user with one indexed video whose scenes say <paramref name="texts"/>, written as the pipeline writes them.</summary>
    private static async Task<(Guid Owner, List<Guid> Scenes, Guid Video)> WriteLibraryAsync(
        HeimdexDbContext db, SentenceEncoder encoder, string title, string[] texts)
    {
        var user = new User { Name = $"direct-search-{Guid.NewGuid():N}" };
        db.Add(user);
        var (scenes, video) = await WriteVideoAsync(db, user.Id, title, texts, encoder);
        return (user.Id, scenes, video);
    }

    /// <summary>An indexed video of <paramref name="owner"/> whose scenes say <paramref name="texts"/>, with their embeddings when an encoder is given.</summary>
    private static async Task<(List<Guid> Scenes, Guid Video)> WriteVideoAsync(
        HeimdexDbContext db, Guid owner, string title, string[] texts, SentenceEncoder? encoder)
    {
        var video = new Video { OwnerId = owner, Title = title, OriginalFileName = "kitchen.mp4", ContentType = "video/mp4", DurationSeconds = texts.Length * 10 };
        video.Resume(new HashSet<string>(), DateTimeOffset.UtcNow); // no stages left to run: indexed
        var scenes = texts.Select((text, i) => new Scene { VideoId = video.Id, OwnerId = video.OwnerId, Index = i, StartSeconds = i * 10, EndSeconds = i * 10 + 10, SearchText = text }).ToList();
        db.Add(video);
        db.Scenes.AddRange(scenes);
        if (encoder is not null)
        {
            db.SceneEmbeddings.AddRange(scenes.Select(scene =>
                new SceneEmbedding { SceneId = scene.Id, VideoId = video.Id, Space = SentenceEncoder.Space, Vector = encoder.Embed(scene.SearchText!) }));
        }

        await db.SaveChangesAsync(Cancellation);
        await SceneDocuments.UpdateAsync(db, [video.Id], Cancellation);
        return ([.. scenes.Select(scene => scene.Id)], video.Id);
    }
}
