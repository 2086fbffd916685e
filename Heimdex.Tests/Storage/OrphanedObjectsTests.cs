using Amazon.S3.Model;
using Hangfire;
using Heimdex.Shared.Storage;
using Heimdex.Tests.Uploads;
using Heimdex.Worker.Storage;

namespace Heimdex.Tests.Storage;

/// <summary>Stored objects no row owns — a process died between storing and saving, or between deleting and cleaning up — do not stay forever.</summary>
[Trait("Category", "Reliability")]
[Collection(HeimdexGraphCollection.Name)]
public sealed class OrphanedObjectsTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Objects_no_video_or_person_owns_are_swept_once_old_enough_and_owned_or_young_ones_stay()
    {
        using var alice = graph.Client(graph.AliceKey);
        // A video that exists: bytes that sniff as MP4 are stored and kept, although validation will fail them.
        var video = await VideoUploadTests.UploadAsync(alice, TestFiles.NotAVideo(64 * 1024), "kept.mp4");
        using var s3 = graph.Storage.CreateClient();
        var (orphanVideo, orphanPerson) = (Guid.NewGuid(), Guid.NewGuid());
        string[] orphans = [StorageKeys.VideoOriginal(orphanVideo), StorageKeys.Keyframe(orphanVideo, 0), StorageKeys.PersonPhoto(orphanPerson, Guid.NewGuid())];
        foreach (var key in orphans)
        {
            await PutAsync(s3, key);
        }

        await Task.Delay(HeimdexGraph.OrphanAfter + TimeSpan.FromSeconds(2), Cancellation);
        var young = StorageKeys.VideoOriginal(Guid.NewGuid()); // as if a form upload had just stored it and not yet saved its row
        await PutAsync(s3, young);

        new RecurringJobManager(graph.Jobs).Trigger(SweepOrphanedObjectsJob.RecurringJobId);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((await graph.StorageSnapshotAsync()).Objects.Overlaps(orphans) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500, Cancellation);
        }

        var after = (await graph.StorageSnapshotAsync()).Objects;
        Assert.DoesNotContain(after, orphans.Contains);
        Assert.Contains(StorageKeys.VideoOriginal(video), after);
        Assert.Contains(young, after);
        await s3.DeleteObjectAsync(graph.Storage.Bucket, young, Cancellation);
    }

    private async Task PutAsync(Amazon.S3.IAmazonS3 s3, string key) =>
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = graph.Storage.Bucket, Key = key, ContentBody = "left behind" }, Cancellation);
}
