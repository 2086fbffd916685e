using Heimdex.Shared.People;
using Heimdex.Shared.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Heimdex.Worker.People;

/// <summary>Sets each face's person: the owner's most similar person above the threshold, or nobody.</summary>
public sealed class PeopleMatcher(IOptions<PeopleOptions> options)
{
    /// <summary>Matches the faces of one video, or of every video the owner has when <paramref name="videoId"/> is null.</summary>
    /// <returns>How many faces changed person.</returns>
    public async Task<int> MatchAsync(HeimdexDbContext db, Guid ownerId, Guid? videoId, CancellationToken cancellationToken)
    {
        var people = (await db.People.AsNoTracking().Where(p => p.OwnerId == ownerId && p.Embedding != null)
            .Select(p => new { p.Id, p.Embedding }).ToListAsync(cancellationToken))
            .Select(p => (p.Id, p.Embedding!)).ToList();
        var videos = videoId is { } single
            ? [single]
            : await db.Videos.Where(v => v.OwnerId == ownerId).Select(v => v.Id).ToListAsync(cancellationToken);
        var changed = 0;
        foreach (var video in videos)
        {
            // A video at a time keeps a large library's face embeddings out of memory all at once. Only these faces are
            // let go afterwards: the context may be a pipeline stage's, whose video and stage rows must stay tracked.
            var faces = await db.Faces.Where(f => f.VideoId == video).ToListAsync(cancellationToken);
            foreach (var face in faces)
            {
                var person = FaceMatching.BestPerson(face.Embedding, people, options.Value.MatchThreshold);
                if (face.PersonId != person)
                {
                    face.PersonId = person;
                    changed++;
                }
            }

            await db.SaveChangesAsync(cancellationToken);
            faces.ForEach(face => db.Entry(face).State = EntityState.Detached);
        }

        return changed;
    }
}
