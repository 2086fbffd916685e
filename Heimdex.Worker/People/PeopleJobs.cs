using System.Diagnostics;
using Heimdex.Shared.Data;
using Heimdex.Shared.Faces;
using Heimdex.Shared.Images;
using Heimdex.Shared.Models;
using Heimdex.Shared.People;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Telemetry;
using Heimdex.Worker.Pipeline;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Heimdex.Worker.People;

/// <summary>
/// Reference photos and re-matching. A photo always ends ready or failed with a reason: a photo that cannot serve
/// (no face, no clear subject, too small, too blurred, not an image) fails at once; a passing fault (storage
/// unreachable) is retried by Hangfire and fails the photo with its message on the last attempt.
/// </summary>
public sealed class PeopleJobs(
    IServiceScopeFactory scopes,
    LoadedModel<FaceAnalyzer> faces,
    PeopleMatcher matcher,
    IOptions<PeopleOptions> people,
    IOptions<PipelineOptions> pipeline,
    TimeProvider time,
    ILogger<PeopleJobs> logger) : IPeopleJobs
{
    public async Task ProcessPhotoAsync(Guid photoId, CancellationToken cancellationToken)
    {
        var activity = Activity.Current?.SetTag(HeimdexTelemetry.PhotoId, photoId);
        using var logScope = logger.BeginScope(HeimdexTelemetry.Scope((HeimdexTelemetry.PhotoId, photoId)));
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
        var photo = await db.PersonPhotos.FirstOrDefaultAsync(p => p.Id == photoId, cancellationToken);
        activity?.SetTag(HeimdexTelemetry.PersonId, photo?.PersonId);
        if (photo is null || photo.State is PhotoState.Failed)
        {
            return; // deleted since, or a duplicate delivery of finished work
        }

        if (photo.State is PhotoState.Ready)
        {
            // Saved ready, but matching the owner's videos did not finish (this is the job's retry, or a redelivery):
            // matching again is harmless, and leaving it undone would leave the person missing from videos.
            await RefreshAsync(db, photo.PersonId, cancellationToken);
            return;
        }

        if (photo.GiveUpIfAttemptsSpent(pipeline.Value.MaxAttempts, time.GetUtcNow()))
        {
            activity?.SetStatus(ActivityStatusCode.Error, photo.Error);
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        photo.StartAttempt(time.GetUtcNow());
        await db.SaveChangesAsync(cancellationToken);

        var path = Path.Combine(Directory.CreateDirectory(pipeline.Value.WorkDirectory).FullName, $"photo-{photoId:N}");
        try
        {
            await scope.ServiceProvider.GetRequiredService<ObjectStore>().DownloadFileAsync(StorageKeys.PersonPhoto(photo.PersonId, photo.Id), path, cancellationToken);
            var (subject, problem) = FaceMatching.ChooseSubject(faces.Value.Analyze(path), people.Value);
            if (subject is null)
            {
                photo.Reject(problem ?? "no face to learn from", time.GetUtcNow());
            }
            else
            {
                photo.Accept(subject.Embedding, time.GetUtcNow());
            }
        }
        catch (Exception unreadable) when (unreadable is InvalidDataException or ImageTooLargeException)
        {
            photo.Reject($"the image cannot be read: {ErrorText.Of(unreadable)}", time.GetUtcNow());
        }
        catch (Exception error) when (error is not OperationCanceledException && photo.Attempts >= pipeline.Value.MaxAttempts)
        {
            photo.Reject($"processing failed {photo.Attempts} times; last: {ErrorText.Of(error)}", time.GetUtcNow());
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            logger.LogWarning(error, "Reference photo {PhotoId} failed on attempt {Attempt}; it will be retried", photoId, photo.Attempts);
            photo.RetryLater(ErrorText.Of(error), time.GetUtcNow());
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
        finally
        {
            File.Delete(path);
        }

        if (photo.State != PhotoState.Ready)
        {
            activity?.SetStatus(ActivityStatusCode.Error, photo.Error);
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        await RefreshAsync(db, photo.PersonId, cancellationToken);
    }

    public async Task RefreshPersonAsync(Guid personId, CancellationToken cancellationToken)
    {
        Activity.Current?.SetTag(HeimdexTelemetry.PersonId, personId);
        using var logScope = logger.BeginScope(HeimdexTelemetry.Scope((HeimdexTelemetry.PersonId, personId)));
        await using var scope = scopes.CreateAsyncScope();
        await RefreshAsync(scope.ServiceProvider.GetRequiredService<HeimdexDbContext>(), personId, cancellationToken);
    }

    /// <summary>Saves the person's face (with any pending photo change), then matches it again across the owner's videos.</summary>
    private async Task RefreshAsync(HeimdexDbContext db, Guid personId, CancellationToken cancellationToken)
    {
        if (await SaveWithPersonEmbeddingAsync(db, personId, cancellationToken) is not { } ownerId)
        {
            return; // deleted: its faces were released with it
        }

        var changed = await matcher.MatchAsync(db, ownerId, videoId: null, cancellationToken);
        logger.LogInformation("Person {PersonId} refreshed; {Changed} faces in the owner's videos changed person", personId, changed);
    }

    /// <summary>
    /// Saves the pending photo change and the person's embedding from their ready photos in one transaction, one
    /// person at a time: otherwise a reader sees a ready photo of a person not yet searchable, and two photos finishing
    /// together each write an embedding that misses the other. Returns the owner, or null when the person is gone.
    /// </summary>
    private static async Task<Guid?> SaveWithPersonEmbeddingAsync(HeimdexDbContext db, Guid personId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The lock comes first, in its own statement, so the photos read next include what the last holder committed.
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM \"People\" WHERE \"Id\" = {personId} FOR UPDATE", cancellationToken);
        var person = await db.People.Include(p => p.Photos).FirstOrDefaultAsync(p => p.Id == personId, cancellationToken);
        if (person is null)
        {
            return null;
        }

        person.Embedding = FaceMatching.PersonEmbedding([.. person.Photos.Where(p => p.State == PhotoState.Ready).Select(p => p.FaceEmbedding!)]);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return person.OwnerId;
    }
}
