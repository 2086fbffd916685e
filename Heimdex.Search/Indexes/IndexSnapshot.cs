using Cloud.Unum.USearch;

namespace Heimdex.Search.Indexes;

/// <summary>A row of an HNSW build: the scene and video its vector came from, and a hash of that video's scenes and vectors when it was built.</summary>
public readonly record struct SnapshotRow(Guid SceneId, Guid VideoId, ulong ContentHash);

/// <summary>
/// An owner's HNSW build on disk, so that a restarted API answers from it at once instead of building it again: the
/// graph (USearch's file), the quartiles its vectors are coded against, if they are, and its rows. The rows' file names
/// the graph file by its hash, so a graph and rows from different builds (a crash between the two renames) are never
/// read as one.
/// </summary>
public static class IndexSnapshot
{
    private const int Format = 4;

    public static void Save(string directory, Guid owner, HnswIndex index, IReadOnlyList<SnapshotRow> rows)
    {
        Directory.CreateDirectory(directory);
        var (graph, table) = Paths(directory, owner);
        // Names of this save's own: two processes given one directory never write into each other's files.
        var (newGraph, newTable) = (Path.ChangeExtension(graph, $"{Guid.NewGuid():N}.tmp"), Path.ChangeExtension(table, $"{Guid.NewGuid():N}.tmp"));
        try
        {
            index.Save(newGraph);
            using (var writer = new BinaryWriter(File.Create(newTable)))
            {
                writer.Write(Format);
                writer.Write(FileHashes.Of(newGraph));
                var quartiles = index.Quartiles ?? [];
                writer.Write(quartiles.Length);
                foreach (var bound in quartiles)
                {
                    writer.Write(bound);
                }

                writer.Write(rows.Count);
                foreach (var row in rows)
                {
                    writer.WriteGuid(row.SceneId);
                    writer.WriteGuid(row.VideoId);
                    writer.Write(row.ContentHash);
                }
            }

            File.Move(newGraph, graph, overwrite: true);
            File.Move(newTable, table, overwrite: true);
        }
        finally
        {
            File.Delete(newGraph);
            File.Delete(newTable);
        }
    }

    /// <summary>The owner's saved build, or null when there is none or it is unreadable, partial or of another format.</summary>
    public static (HnswIndex Index, SnapshotRow[] Rows)? TryLoad(string directory, Guid owner)
    {
        var (graph, table) = Paths(directory, owner);
        if (!File.Exists(graph) || !File.Exists(table))
        {
            return null;
        }

        try
        {
            SnapshotRow[] rows;
            float[] quartiles;
            using (var reader = new BinaryReader(File.OpenRead(table)))
            {
                if (reader.ReadInt32() != Format || reader.ReadUInt64() != FileHashes.Of(graph))
                {
                    return null;
                }

                quartiles = new float[reader.ReadInt32()];
                for (var i = 0; i < quartiles.Length; i++)
                {
                    quartiles[i] = reader.ReadSingle();
                }

                rows = new SnapshotRow[reader.ReadInt32()];
                for (var i = 0; i < rows.Length; i++)
                {
                    rows[i] = new SnapshotRow(reader.ReadGuid(), reader.ReadGuid(), reader.ReadUInt64());
                }
            }

            var index = HnswIndex.Load(graph, quartiles.Length == 0 ? null : quartiles);
            if (index.Count == rows.Length)
            {
                return (index, rows);
            }

            index.Dispose();
            return null;
        }
        catch (Exception error) when (error is IOException or EndOfStreamException or ArgumentException or USearchException)
        {
            return null;
        }
    }

    private static (string Graph, string Table) Paths(string directory, Guid owner) =>
        (Path.Combine(directory, $"{owner:N}.usearch"), Path.Combine(directory, $"{owner:N}.rows"));
}
