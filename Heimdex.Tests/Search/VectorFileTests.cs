using Heimdex.Search.Indexes;

namespace Heimdex.Tests.Search;

/// <summary>The vector file gives back what was written, wherever it lies in the file's mapped segments.</summary>
public sealed class VectorFileTests
{
    [Fact]
    public void Vectors_written_from_many_threads_read_back_whole_across_segment_boundaries()
    {
        var directory = Directory.CreateTempSubdirectory("heimdex-vector-file-").FullName;
        // Segments of a page, smaller than a 384-d vector: most vectors start in one segment and end in the next.
        using var file = new VectorFile(directory, segmentBytes: 4096);
        var vectors = Enumerable.Range(0, 400).Select(i => Enumerable.Range(0, 384).Select(d => i * 1_000f + d).ToArray()).ToArray();
        var offsets = new long[vectors.Length];

        Parallel.For(0, vectors.Length, i =>
        {
            offsets[i] = i % 2 == 0 ? file.Append([vectors[i]]) : file.Append(vectors[i].AsSpan());
            var read = new float[384];
            file.Read(offsets[i], read);
            Assert.Equal(vectors[i], read);
        });

        Assert.Equal(400L * 384 * sizeof(float), file.Bytes);
        Assert.Equal(offsets.Length, offsets.Distinct().Count());
        var first = Array.IndexOf(offsets, offsets.Min());
        var two = new float[768];
        file.Read(offsets[first], two); // a read of several vectors in a row, over several segments
        Assert.Equal(vectors[first], two[..384]);
        Assert.Equal(vectors[Array.IndexOf(offsets, offsets[first] + 384 * sizeof(float))], two[384..]);
        Assert.Empty(Directory.GetFiles(directory)); // unlinked as soon as opened
        Assert.Throws<EndOfStreamException>(() => file.Read(file.Bytes - 4, new float[2]));
    }
}
