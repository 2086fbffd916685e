using Microsoft.Extensions.Options;
using Npgsql;

namespace Heimdex.Search;

/// <summary>
/// The lexemes PostgreSQL's statistics of the scenes' documents put in more than <see cref="SceneSearch.CommonWordScenes"/>
/// scenes, with that estimate. Read from <c>pg_stats</c> at most once per <see cref="SearchOptions.CommonWordsRefresh"/>
/// rather than inside every search's statement: planning that view cost each search about 1.8 ms, while its rows change
/// only when the table is analysed.
/// </summary>
public sealed class CommonWords(NpgsqlDataSource dataSource, IOptions<SearchOptions> options, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _reading = new(1, 1);
    private volatile Read? _current;

    private sealed record Read(IReadOnlyDictionary<string, double> Scenes, long At);

    /// <summary>Each common lexeme with the number of scenes the statistics estimate hold it.</summary>
    public async Task<IReadOnlyDictionary<string, double>> GetAsync(CancellationToken cancellationToken)
    {
        if (Fresh() is { } fresh)
        {
            return fresh;
        }

        await _reading.WaitAsync(cancellationToken);
        try
        {
            if (Fresh() is { } readMeanwhile)
            {
                return readMeanwhile;
            }

            var readAt = time.GetTimestamp();
            var scenes = await ReadAsync(cancellationToken);
            _current = new Read(scenes, readAt);
            return scenes;
        }
        finally
        {
            _reading.Release();
        }
    }

    public void Dispose() => _reading.Dispose();

    private IReadOnlyDictionary<string, double>? Fresh() =>
        _current is { } current && time.GetElapsedTime(current.At) < options.Value.CommonWordsRefresh ? current.Scenes : null;

    private async Task<Dictionary<string, double>> ReadAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT e.lexeme, (e.frequency * (SELECT reltuples FROM pg_class WHERE oid = '"Scenes"'::regclass))::float8
            FROM pg_stats st, unnest(st.most_common_elems::text::text[], st.most_common_elem_freqs) AS e(lexeme, frequency)
            WHERE st.schemaname = current_schema() AND st.tablename = 'Scenes' AND st.attname = 'Document' AND e.lexeme IS NOT NULL
            """);
        // The frequencies end with three statistics of their own (least, most, empty), beside no lexeme.
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var scenes = new Dictionary<string, double>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var estimate = reader.GetDouble(1);
            if (estimate > SceneSearch.CommonWordScenes)
            {
                scenes[reader.GetString(0)] = estimate;
            }
        }

        return scenes;
    }
}
