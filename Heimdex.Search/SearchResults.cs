namespace Heimdex.Search;

/// <summary>
/// A hit's score: the reciprocal-rank-fused total and, per ranking, what it contributed to the total (text search) or
/// the similarity it found (image search: visual, face); null where that ranking did not find the scene. Text search
/// also says why and how strongly: the query's words the scene holds, the typed words corrected to words it holds
/// ("contry → country"), and the cosine similarity of the query's meaning to the scene's.
/// </summary>
public sealed record SearchScore(double Total, double? Lexical, double? Fuzzy, double? Semantic, double? Visual = null, double? Face = null)
{
    public IReadOnlyList<string>? MatchedWords { get; init; }

    public IReadOnlyList<string>? CorrectedWords { get; init; }

    public double? Similarity { get; init; }
}

/// <summary>What was said in a hit's scene with the query's words, and when.</summary>
public sealed record SpokenMatch(double StartSeconds, double EndSeconds, string Text);

/// <summary>
/// A scene that matched. <c>PlayFromSeconds</c> is where its <c>PlaybackUrl</c> starts: the first transcript segment
/// in the scene that says the query's words (<c>Spoken</c>), else where on-screen text with them first shows in the
/// scene, else the scene's start; playback ends with the scene.
/// </summary>
public sealed record SearchHit(
    Guid VideoId, string VideoTitle, Guid SceneId, int SceneIndex, double StartSeconds, double EndSeconds,
    SearchScore Score, string Snippet, string? ThumbnailUrl, string PlaybackUrl, double PlayFromSeconds, SpokenMatch? Spoken);

public sealed record SearchResponse(string Query, IReadOnlyList<SearchHit> Hits, string? NextCursor);

/// <summary>Scenes like an image; <c>FacesSearched</c> counts the faces in it large and sharp enough to recognise someone by.</summary>
public sealed record ImageSearchResponse(string FileName, int FacesSearched, IReadOnlyList<SearchHit> Hits);

/// <summary>
/// A text search: the words typed, its filters (one video, scenes where a person appears, videos uploaded from/to)
/// and the page: <see cref="Limit"/> hits after the offset <see cref="Cursor"/> holds.
/// </summary>
public sealed record SceneQuery(
    string Text, Guid? VideoId = null, Guid? PersonId = null, DateTimeOffset? From = null, DateTimeOffset? To = null, int Limit = 20, string? Cursor = null);
