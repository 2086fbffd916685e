using System.Net.Http.Json;
using System.Text.Json;
using Heimdex.Shared.Storage;
using Npgsql;

namespace Heimdex.Tests.Pipeline;

/// <summary>
/// What indexing a video exactly once leaves, however many workers, kills or redeliveries it took: no row twice, and
/// in storage the original plus exactly the objects (and folders of objects) its stages recorded — one keyframe and one thumbnail per scene.
/// </summary>
public static class IndexedOnce
{
    /// <summary>What no video may hold twice: the same scene, words said at the same moment, a line shown at the same moment, a face at the same place, a picture of a scene at the same moment.</summary>
    private static readonly (string Table, string Key)[] Unique =
    [
        ("Scenes", "\"Index\""),
        ("TranscriptSegments", "\"StartSeconds\", \"Text\""),
        ("OnScreenTexts", "\"StartSeconds\", \"Text\""),
        ("Faces", "\"SceneId\", \"X\", \"Y\""),
        ("SceneFrames", "\"SceneId\", \"Seconds\""),
    ];

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public static async Task AssertAsync(string databaseConnectionString, StorageConnection storage, HttpClient owner, Guid id)
    {
        await using var database = NpgsqlDataSource.Create(databaseConnectionString);
        foreach (var (table, key) in Unique)
        {
            await using var duplicates = database.CreateCommand($"SELECT count(*) - count(DISTINCT ({key})) FROM \"{table}\" WHERE \"VideoId\" = $1");
            duplicates.Parameters.Add(new() { Value = id });
            Assert.True((long)(await duplicates.ExecuteScalarAsync(Cancellation))! == 0, $"video {id} holds the same {table} row twice");
        }

        await using var outputs = database.CreateCommand("SELECT k FROM \"StageRuns\", unnest(\"OutputKeys\") AS k WHERE \"VideoId\" = $1");
        outputs.Parameters.Add(new() { Value = id });
        var recorded = new HashSet<string> { StorageKeys.VideoOriginal(id) };
        await using (var reader = await outputs.ExecuteReaderAsync(Cancellation))
        {
            while (await reader.ReadAsync(Cancellation))
            {
                recorded.Add(reader.GetString(0));
            }
        }

        using var s3 = storage.CreateClient();
        var prefix = StorageKeys.VideoPrefix(id);
        var stored = (await TestFiles.StorageSnapshotAsync(s3, storage.Bucket)).Objects.Where(key => key.StartsWith(prefix, StringComparison.Ordinal)).ToHashSet();
        // A stage records a folder (ending in '/') for outputs it writes one per scene.
        bool Recorded(string key) => recorded.Contains(key) || recorded.Any(folder => folder.EndsWith('/') && key.StartsWith(folder, StringComparison.Ordinal));
        var missing = recorded.Where(key => key.EndsWith('/') ? !stored.Any(s => s.StartsWith(key, StringComparison.Ordinal)) : !stored.Contains(key));
        Assert.True(stored.All(Recorded) && !missing.Any(),
            $"video {id}: stored but recorded by no stage: [{string.Join(", ", stored.Where(key => !Recorded(key)))}]; recorded but not stored: [{string.Join(", ", missing)}]");

        var scenes = (await owner.GetFromJsonAsync<JsonElement>($"/api/videos/{id}/scenes", Cancellation)).GetArrayLength();
        Assert.Equal(scenes, stored.Count(key => key.StartsWith(prefix + "keyframes/", StringComparison.Ordinal)));
        Assert.Equal(scenes, stored.Count(key => key.StartsWith(prefix + "thumbnails/", StringComparison.Ordinal)));
    }
}
