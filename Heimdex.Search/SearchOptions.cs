using System.ComponentModel.DataAnnotations;

namespace Heimdex.Search;

/// <summary>How text search decides what is a match (configuration section <c>Search</c>).</summary>
public sealed class SearchOptions
{
    public const string Section = "Search";

    /// <summary>
    /// The least cosine similarity between the query's and a scene's sentence embeddings that counts as a match by
    /// meaning. Below it a scene is not returned for its meaning alone, so a query about a topic the library does not
    /// hold finds nothing. Calibrated with <c>bench -- relevance</c> on generated related and unrelated queries.
    /// </summary>
    [Range(-1.0, 1.0)]
    public double MinSemanticSimilarity { get; set; } = DefaultMinSemanticSimilarity;

    public const double DefaultMinSemanticSimilarity = 0.325;

    /// <summary>
    /// How often an API compares what its vector indexes hold with Postgres, reloading videos changed or deleted since
    /// it loaded them: the Redis message that announces a change is lost if the API's subscription drops at that moment.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long the common words read from PostgreSQL's statistics serve searches before they are read again (zero:
    /// read for every search). Statistics change when the scenes are analysed, which autovacuum does as they grow.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan CommonWordsRefresh { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Where this API saves its vectors and HNSW builds (one folder per replica; none: they are not saved). A restarted
    /// API reads the vectors of videos unchanged since the save from here rather than from Postgres, and an owner's
    /// saved build instead of building it again, which takes minutes for a library of a million scenes.
    /// </summary>
    public string? SnapshotDirectory { get; set; }

    /// <summary>
    /// Where this API keeps the float vectors of its indexes while it runs (none: the system's temporary folder), so
    /// they are not in its memory: about 1.5 KB per scene on local disk, read back to re-rank candidates exactly.
    /// </summary>
    public string? VectorDirectory { get; set; }
}
