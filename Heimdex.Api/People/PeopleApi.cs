using System.Security.Claims;
using Amazon.S3.Model;
using Heimdex.Api.Uploads;
using Heimdex.Shared.Data;
using Heimdex.Shared.People;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Api.People;

public sealed record PersonRequest(string Name);

public sealed record PhotoResponse(Guid Id, string State, string? Error, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record PersonResponse(Guid Id, string Name, bool Searchable, DateTimeOffset CreatedAt, IReadOnlyList<PhotoResponse> Photos)
{
    public static PersonResponse From(Person person) => new(person.Id, person.Name, person.Embedding is not null, person.CreatedAt,
        [.. person.Photos.OrderBy(p => p.CreatedAt).Select(p => new PhotoResponse(p.Id, p.State.ToString().ToLowerInvariant(), p.Error, p.Attempts, p.CreatedAt, p.UpdatedAt))]);
}

/// <summary>A stretch of a video where the person is seen: consecutive scenes showing them, merged.</summary>
public sealed record AppearanceRange(double StartSeconds, double EndSeconds, IReadOnlyList<int> SceneIndexes, string? ThumbnailUrl);

/// <summary>Where a person is seen in one video; the video's duration places the ranges on a timeline.</summary>
public sealed record VideoAppearances(Guid VideoId, string Title, double? DurationSeconds, IReadOnlyList<AppearanceRange> Ranges);

/// <summary>People known from reference photos, and where they appear.</summary>
public static class PeopleApi
{
    public const long MaxPhotoBytes = 20 * 1024 * 1024;

    public sealed record PeopleServices(HeimdexDbContext Db, ObjectStore Store, IPeopleQueue Queue);

    public static RouteGroupBuilder MapPeopleApi(this RouteGroupBuilder people)
    {
        people.MapPost("", CreateAsync).WithName("CreatePerson").WithSummary("Create a person to find in your videos");
        people.MapGet("", ListAsync).WithName("ListPeople").WithSummary("Your people, by name");
        people.MapGet("{id:guid}", GetAsync).WithName("GetPerson").WithSummary("A person with their reference photos and each photo's state");
        people.MapPatch("{id:guid}", RenameAsync).WithName("RenamePerson").WithSummary("Rename a person");
        people.MapDelete("{id:guid}", DeleteAsync).WithName("DeletePerson")
            .WithSummary("Delete a person, their photos and every match of their face");
        people.MapPost("{id:guid}/photos", AddPhotoAsync).WithName("AddPersonPhoto").WithBodyLimit(MaxPhotoBytes + RequestBodyLimits.FormOverheadBytes)
            .WithSummary("Add a reference photo (JPEG, PNG or WebP)")
            .WithDescription("Multipart form with the image in `file` (at most 20 MiB). Answers 202 with the photo `uploaded`; it becomes " +
                             "`ready`, or `failed` with the reason (no face, several faces and none clearly the subject, face too small or " +
                             "blurred, unreadable image). Ready photos make the person searchable and every video is matched again.")
            .DisableAntiforgery()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        people.MapDelete("{id:guid}/photos/{photoId:guid}", DeletePhotoAsync).WithName("DeletePersonPhoto")
            .WithSummary("Remove a reference photo; the person's face is recomputed and videos matched again");
        people.MapGet("{id:guid}/appearances", AppearancesAsync).WithName("PersonAppearances")
            .WithSummary("Videos and time ranges where the person appears")
            .WithDescription("Per video, the ranges of consecutive scenes whose keyframes show the person, with the first scene's thumbnail.");
        return people;
    }

    private static async Task<Results<Created<PersonResponse>, ValidationProblem>> CreateAsync(
        PersonRequest request, ClaimsPrincipal user, HeimdexDbContext db, CancellationToken cancellationToken)
    {
        if (NameProblem(request.Name) is { } problem)
        {
            return problem;
        }

        var person = new Person { OwnerId = user.UserId(), Name = request.Name.Trim() };
        db.People.Add(person);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/people/{person.Id}", PersonResponse.From(person));
    }

    private static async Task<Ok<List<PersonResponse>>> ListAsync(ClaimsPrincipal user, HeimdexDbContext db, CancellationToken cancellationToken)
    {
        var owner = user.UserId();
        var people = await db.People.AsNoTracking().Include(p => p.Photos).Where(p => p.OwnerId == owner)
            .OrderBy(p => p.Name).ThenBy(p => p.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(people.Select(PersonResponse.From).ToList());
    }

    private static async Task<Results<Ok<PersonResponse>, NotFound>> GetAsync(Guid id, ClaimsPrincipal user, HeimdexDbContext db, CancellationToken cancellationToken) =>
        await FindAsync(db.People.AsNoTracking(), id, user, cancellationToken) is { } person ? TypedResults.Ok(PersonResponse.From(person)) : TypedResults.NotFound();

    private static async Task<Results<Ok<PersonResponse>, NotFound, ValidationProblem>> RenameAsync(
        Guid id, PersonRequest request, ClaimsPrincipal user, HeimdexDbContext db, CancellationToken cancellationToken)
    {
        if (NameProblem(request.Name) is { } problem)
        {
            return problem;
        }

        if (await FindAsync(db.People, id, user, cancellationToken) is not { } person)
        {
            return TypedResults.NotFound();
        }

        person.Name = request.Name.Trim();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(PersonResponse.From(person));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(
        Guid id, ClaimsPrincipal user, [AsParameters] PeopleServices services, CancellationToken cancellationToken)
    {
        if (await FindAsync(services.Db.People, id, user, cancellationToken) is not { } person)
        {
            return TypedResults.NotFound();
        }

        await services.Store.DeletePrefixAsync(StorageKeys.PersonPrefix(id), cancellationToken);
        services.Db.People.Remove(person); // photos cascade; matched faces are released (person set to null)
        await services.Db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<PhotoResponse>, NotFound, ProblemHttpResult>> AddPhotoAsync(
        Guid id, IFormFile? file, ClaimsPrincipal user, [AsParameters] PeopleServices services, CancellationToken cancellationToken)
    {
        if (await FindAsync(services.Db.People.AsNoTracking(), id, user, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }

        if (!ImageSniffer.TryAccept(file, MaxPhotoBytes, out var contentType, out var problem))
        {
            return problem;
        }

        await using var content = file.OpenReadStream();
        var photo = new PersonPhoto { PersonId = id, ContentType = contentType };
        await services.Store.S3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = services.Store.Bucket,
            Key = StorageKeys.PersonPhoto(id, photo.Id),
            InputStream = content,
            ContentType = contentType,
        }, cancellationToken);
        services.Db.PersonPhotos.Add(photo);
        await services.Db.SaveChangesAsync(cancellationToken);
        services.Queue.ProcessPhoto(photo.Id);
        return TypedResults.Accepted($"/api/people/{id}", new PhotoResponse(photo.Id, "uploaded", null, 0, photo.CreatedAt, photo.UpdatedAt));
    }

    private static async Task<Results<NoContent, NotFound>> DeletePhotoAsync(
        Guid id, Guid photoId, ClaimsPrincipal user, [AsParameters] PeopleServices services, CancellationToken cancellationToken)
    {
        var owner = user.UserId();
        var photo = await services.Db.PersonPhotos
            .FirstOrDefaultAsync(p => p.Id == photoId && p.PersonId == id && services.Db.People.Any(person => person.Id == id && person.OwnerId == owner), cancellationToken);
        if (photo is null)
        {
            return TypedResults.NotFound();
        }

        await services.Store.DeleteAsync(StorageKeys.PersonPhoto(id, photoId), cancellationToken);
        services.Db.PersonPhotos.Remove(photo);
        await services.Db.SaveChangesAsync(cancellationToken);
        services.Queue.RefreshPerson(id);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<List<VideoAppearances>>, NotFound>> AppearancesAsync(
        Guid id, ClaimsPrincipal user, HeimdexDbContext db, CancellationToken cancellationToken)
    {
        if (await FindAsync(db.People.AsNoTracking(), id, user, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }

        var scenes = await db.Scenes.AsNoTracking()
            .Where(s => db.Faces.Any(f => f.SceneId == s.Id && f.PersonId == id))
            .Join(db.Videos, s => s.VideoId, v => v.Id, (s, v) => new { Scene = s, v.Title, v.DurationSeconds, v.CreatedAt })
            .OrderByDescending(x => x.CreatedAt).ThenBy(x => x.Scene.VideoId).ThenBy(x => x.Scene.Index)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(scenes.GroupBy(x => (x.Scene.VideoId, x.Title, x.DurationSeconds)).Select(video => new VideoAppearances(video.Key.VideoId, video.Key.Title, video.Key.DurationSeconds,
            [.. Merge(video.Select(x => x.Scene).ToList()).Select(run => new AppearanceRange(run[0].StartSeconds, run[^1].EndSeconds,
                [.. run.Select(s => s.Index)], run[0].ThumbnailKey is null ? null : $"/api/videos/{video.Key.VideoId}/scenes/{run[0].Index}/thumbnail"))])).ToList());
    }

    /// <summary>Runs of scenes with consecutive indexes.</summary>
    private static IEnumerable<List<Shared.Videos.Scene>> Merge(List<Shared.Videos.Scene> scenes)
    {
        var run = new List<Shared.Videos.Scene>();
        foreach (var scene in scenes)
        {
            if (run.Count > 0 && scene.Index != run[^1].Index + 1)
            {
                yield return run;
                run = [];
            }

            run.Add(scene);
        }

        if (run.Count > 0)
        {
            yield return run;
        }
    }

    private static Task<Person?> FindAsync(IQueryable<Person> people, Guid id, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var owner = user.UserId();
        return people.Include(p => p.Photos).FirstOrDefaultAsync(p => p.Id == id && p.OwnerId == owner, cancellationToken);
    }

    private static ValidationProblem? NameProblem(string? name) => string.IsNullOrWhiteSpace(name) || name.Trim().Length > 200
        ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["a name of 1 to 200 characters is required"] })
        : null;
}
