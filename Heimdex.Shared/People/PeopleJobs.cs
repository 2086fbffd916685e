using System.ComponentModel;
using Hangfire;

namespace Heimdex.Shared.People;

/// <summary>The people work the API enqueues and the worker does, carried by Hangfire like the video pipeline.</summary>
public interface IPeopleJobs
{
    /// <summary>Finds the subject's face in a reference photo: the photo ends ready or failed with a reason.</summary>
    [DisplayName("reference photo {0}")]
    Task ProcessPhotoAsync(Guid photoId, CancellationToken cancellationToken);

    /// <summary>Recomputes a person's embedding from their ready photos and matches the owner's videos against people again.</summary>
    [DisplayName("refresh person {0}")]
    Task RefreshPersonAsync(Guid personId, CancellationToken cancellationToken);
}

public interface IPeopleQueue
{
    string ProcessPhoto(Guid photoId);

    string RefreshPerson(Guid personId);
}

public sealed class HangfirePeopleQueue(IBackgroundJobClient jobs) : IPeopleQueue
{
    public string ProcessPhoto(Guid photoId) => jobs.Enqueue<IPeopleJobs>(people => people.ProcessPhotoAsync(photoId, CancellationToken.None));

    public string RefreshPerson(Guid personId) => jobs.Enqueue<IPeopleJobs>(people => people.RefreshPersonAsync(personId, CancellationToken.None));
}
