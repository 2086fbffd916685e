namespace Heimdex.Shared.Search;

/// <summary>
/// A word that occurs in one of the owner's scenes (title, what is shown and said, description). A query word the
/// owner's library does not contain is corrected to the nearest of these by trigram similarity: matching a typo
/// against a vocabulary is far cheaper than against every scene's text. Words stay after their videos are deleted;
/// a stale correction only matches nothing.
/// </summary>
public sealed class SearchWord
{
    public Guid OwnerId { get; init; }

    public required string Word { get; init; }
}
