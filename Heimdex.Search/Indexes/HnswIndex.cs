using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;

namespace Heimdex.Search.Indexes;

/// <summary>
/// How an <see cref="HnswIndex"/> holds its vectors: at 8 bits per component, or as three bits per component (a
/// tenth of the floats, compared by Hamming distance), which needs more candidates re-ranked for the same recall.
/// The three bits say which quarter of the component's spread over the graph's vectors it lies in: above the mean
/// less 0.674 standard deviations, above the mean, above the mean plus 0.674 (the quartiles of a normal spread), so
/// the Hamming distance of two vectors sums how many quarters apart their components lie. Sign bits alone (one bit,
/// above the mean) lose the nearest of large libraries: of 200,000 MiniLM sentence embeddings, 1,000 candidates
/// held 0.931 of the true 10 nearest as sign bits, 0.987 as quartile bits (0.985 at 8 bits).
/// </summary>
public enum GraphVectors
{
    Int8,
    QuartileBits,
}

/// <summary>
/// An approximate nearest-neighbour index over unit vectors: USearch's HNSW graph over the vectors quantised to
/// <see cref="GraphVectors"/>. Rows are added while searches run (USearch's graph locks the nodes it links), into room
/// reserved ahead: USearch reallocates its storage as it grows, so <see cref="Reserve"/> first waits until no search
/// or addition runs and holds them off meanwhile. At most one search or addition per core runs in it at a time, as
/// many as USearch has thread contexts. The similarities it finds are of the quantised vectors, so callers re-rank its
/// candidates exactly. Its native memory is freed when the last lease is released: the owner's (<see cref="Dispose"/>)
/// and any search's still running. A search may take a filter that the graph walk itself applies (USearch's
/// <c>usearch_filtered_search</c>, which the .NET binding does not wrap), so the nearest rows that pass it are found,
/// not the nearest rows filtered after.
/// </summary>
public sealed partial class HnswIndex : IDisposable
{
    /// <summary>Neighbours per node: 16 links (32 on the bottom layer) hold recall on 384-d embeddings at small cost.</summary>
    private const ulong Connectivity = 16;
    private const ulong ExpansionAdd = 128;
    private const ulong ExpansionSearch = 128;

    private static readonly FieldInfo NativeHandle = typeof(USearchIndex).GetField("_index", BindingFlags.NonPublic | BindingFlags.Instance)
        ?? throw new InvalidOperationException("Cloud.Unum.USearch changed: USearchIndex no longer holds its native index in _index.");

    private readonly USearchIndex _index;

    /// <summary>The native index, for the calls of USearch's C API the binding does not wrap; read once, not per search.</summary>
    private readonly nint _native;
    private static readonly int Contexts = Environment.ProcessorCount;
    private readonly SemaphoreSlim _contexts = new(Contexts);

    /// <summary>
    /// Held while rows are added or room made, and by what reads every node (writing out, measuring): USearch counts
    /// a row before its node is in place, and reading that node then crashes the process.
    /// </summary>
    private readonly Lock _writing = new();
    private int _leases = 1;

    private HnswIndex(USearchIndex index, float[]? quartiles) => (_index, _native, Quartiles) = (index, (nint)NativeHandle.GetValue(index)!, quartiles);

    /// <summary>
    /// The three bounds of each component's quarters, component by component, that every vector and every query is
    /// coded against (none at 8 bits).
    /// </summary>
    public float[]? Quartiles { get; }

    public long Count => (long)_index.Size();

    /// <summary>
    /// The bytes of the graph and its quantised vectors, as USearch writes them out. Its own memory count is no
    /// measure of what a graph takes: it adds the arenas it reserves ahead in steps of up to 16 MB, whose pages are
    /// never touched (resident) until rows fill them.
    /// </summary>
    public long Bytes
    {
        get
        {
            lock (_writing)
            {
                return (long)UsearchSerializedLength(_native, out _);
            }
        }
    }

    /// <summary>Vectors added per call while building: the floats of a large library are never all in memory at once.</summary>
    private const int BuildBatch = 4096;

    /// <summary>
    /// How many candidates a search for the <paramref name="count"/> nearest draws from a graph of these vectors to
    /// re-rank exactly: with quartile bits recall@10 of MiniLM sentence embeddings is 0.98 at 1,000 in 200,000 of
    /// them (0.95 at 400).
    /// </summary>
    public static int CandidatesFor(GraphVectors vectors, int count) =>
        vectors == GraphVectors.QuartileBits ? Math.Max(5 * count, 1_000) : Math.Max(count, 100);

    /// <summary>The bits of one component in quartile bits.</summary>
    private const int BitsPerComponent = 3;

    /// <summary>How far from the mean, in standard deviations, the quarters of a normal spread are bounded.</summary>
    private static readonly float[] QuartileDeviations = [-0.6745f, 0f, 0.6745f];

    /// <summary>
    /// An index of <paramref name="count"/> <paramref name="dimensions"/>-d vectors whose row <c>i</c> is the
    /// <c>i</c>-th of <paramref name="vectors"/>, read twice for quartile bits (their spread first).
    /// </summary>
    public static HnswIndex Build(int dimensions, int count, Func<IEnumerable<float[]>> vectors, GraphVectors kind)
    {
        var quartiles = kind == GraphVectors.QuartileBits ? QuartilesOf(dimensions, vectors()) : null;
        var index = kind == GraphVectors.QuartileBits
            ? new USearchIndex(MetricKind.Hamming, ScalarKind.Bits1, (ulong)(dimensions * BitsPerComponent), Connectivity, ExpansionAdd, ExpansionSearch, multi: false)
            : new USearchIndex(MetricKind.Cos, ScalarKind.Int8, (ulong)dimensions, Connectivity, ExpansionAdd, ExpansionSearch, multi: false);
        var graph = new HnswIndex(index, quartiles);
        try
        {
            // Room for exactly these rows: growing as they arrive would leave up to half the graph's memory unused.
            graph.Reserve(count);
            var row = 0L;
            foreach (var batch in vectors().Chunk(BuildBatch))
            {
                graph.Add(row, batch);
                row += batch.Length;
            }

            ArgumentOutOfRangeException.ThrowIfZero(row, nameof(vectors));
            return graph;
        }
        catch
        {
            graph.Dispose();
            throw;
        }
    }

    /// <summary>Each component's mean less and plus 0.674 standard deviations, and its mean, over the vectors.</summary>
    private static float[] QuartilesOf(int dimensions, IEnumerable<float[]> vectors)
    {
        var (sum, squares, count) = (new double[dimensions], new double[dimensions], 0);
        foreach (var vector in vectors)
        {
            for (var d = 0; d < dimensions; d++)
            {
                sum[d] += vector[d];
                squares[d] += (double)vector[d] * vector[d];
            }

            count++;
        }

        count = Math.Max(count, 1);
        var quartiles = new float[dimensions * BitsPerComponent];
        for (var d = 0; d < dimensions; d++)
        {
            var mean = sum[d] / count;
            var deviation = Math.Sqrt(Math.Max(squares[d] / count - mean * mean, 0));
            for (var bit = 0; bit < BitsPerComponent; bit++)
            {
                quartiles[d * BitsPerComponent + bit] = (float)(mean + QuartileDeviations[bit] * deviation);
            }
        }

        return quartiles;
    }

    /// <summary>
    /// The vector's quartile bits, as USearch takes bits from floats (a positive float sets its bit): each component
    /// sets one bit for each bound of its quarters it lies above.
    /// </summary>
    private static float[] Coded(float[] vector, float[] quartiles)
    {
        var coded = new float[quartiles.Length];
        for (var bit = 0; bit < coded.Length; bit++)
        {
            coded[bit] = vector[bit / BitsPerComponent] > quartiles[bit] ? 1 : -1;
        }

        return coded;
    }

    /// <summary>
    /// Adds <paramref name="vectors"/> as rows <paramref name="firstRow"/> on, while searches run. There must be room
    /// for them (<see cref="Reserve"/>): USearch refuses a row beyond it rather than grow under the searches.
    /// </summary>
    public unsafe void Add(long firstRow, IReadOnlyList<float[]> vectors)
    {
        _contexts.Wait();
        try
        {
            for (var i = 0; i < vectors.Count; i++)
            {
                var vector = Quartiles is null ? vectors[i] : Coded(vectors[i], Quartiles);
                nint error;
                // Row by row: what waits on the lock (the index's status) waits for one row, not a video's.
                using (_writing.EnterScope())
                {
                    fixed (float* values = vector)
                    {
                        UsearchAdd(_native, (ulong)(firstRow + i), values, (uint)ScalarKind.Float32, out error);
                    }
                }

                ThrowIf(error, "adding a row");
            }
        }
        finally
        {
            _contexts.Release();
        }
    }

    /// <summary>
    /// Makes room for <paramref name="capacity"/> rows. It takes every thread context first, so it waits for the
    /// searches and additions running and holds new ones off until the storage is reallocated.
    /// </summary>
    public void Reserve(long capacity)
    {
        using var writing = _writing.EnterScope();
        var taken = 0;
        try
        {
            for (; taken < Contexts; taken++)
            {
                _contexts.Wait();
            }

            UsearchReserve(_native, (nuint)capacity, out var error);
            ThrowIf(error, "reserving room");
        }
        finally
        {
            if (taken > 0)
            {
                _contexts.Release(taken);
            }
        }
    }

    /// <summary>An index saved with <see cref="Save"/> (and its <see cref="Quartiles"/>), read whole into memory.</summary>
    public static HnswIndex Load(string path, float[]? quartiles) => new(new USearchIndex(path, view: false), quartiles);

    /// <summary>Writes the index to <paramref name="path"/>; searches go on meanwhile, additions wait.</summary>
    public void Save(string path)
    {
        lock (_writing)
        {
            _index.Save(path);
        }
    }

    /// <summary>
    /// Rows of about the <paramref name="count"/> nearest vectors that <paramref name="allow"/> accepts (all, without
    /// one), nearest first by their quantised vectors.
    /// </summary>
    public IReadOnlyList<int> Search(float[] query, int count, Func<int, bool>? allow = null)
    {
        query = Quartiles is null ? query : Coded(query, Quartiles);
        _contexts.Wait();
        try
        {
            if (allow is null)
            {
                var found = _index.Search(query, count, out var keys, out _);
                return [.. keys.Take(found).Select(key => (int)key)];
            }

            return FilteredSearch(query, count, allow);
        }
        finally
        {
            _contexts.Release();
        }
    }

    private unsafe List<int> FilteredSearch(float[] query, int count, Func<int, bool> allow)
    {
        var keys = new ulong[count];
        var distances = new float[count];
        var state = GCHandle.Alloc(allow);
        try
        {
            nuint found;
            nint error;
            fixed (float* vector = query)
            fixed (ulong* foundKeys = keys)
            fixed (float* foundDistances = distances)
            {
                found = UsearchFilteredSearch(_native, vector, (uint)ScalarKind.Float32, (nuint)count,
                    &Allows, GCHandle.ToIntPtr(state), foundKeys, foundDistances, out error);
            }

            ThrowIf(error, "filtered search");

            return [.. keys.Take((int)found).Select(key => (int)key)];
        }
        finally
        {
            state.Free();
        }
    }

    /// <summary>USearch's filter callback: non-zero keeps the row. It must not throw into native code.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Allows(ulong row, nint state)
    {
        try
        {
            return ((Func<int, bool>)GCHandle.FromIntPtr(state).Target!)((int)row) ? 1 : 0;
        }
        catch
        {
            return 0;
        }
    }

    private static void ThrowIf(nint error, string what)
    {
        if (error != 0)
        {
            throw new USearchException($"USearch {what} failed: {Marshal.PtrToStringAnsi(error)}");
        }
    }

    [LibraryImport("libusearch_c", EntryPoint = "usearch_reserve")]
    private static partial void UsearchReserve(nint index, nuint capacity, out nint error);

    [LibraryImport("libusearch_c", EntryPoint = "usearch_add")]
    private static unsafe partial void UsearchAdd(nint index, ulong key, float* vector, uint vectorKind, out nint error);

    [LibraryImport("libusearch_c", EntryPoint = "usearch_serialized_length")]
    private static partial nuint UsearchSerializedLength(nint index, out nint error);

    [LibraryImport("libusearch_c", EntryPoint = "usearch_filtered_search")]
    private static unsafe partial nuint UsearchFilteredSearch(
        nint index, float* query, uint queryKind, nuint count, delegate* unmanaged[Cdecl]<ulong, nint, int> filter, nint filterState,
        ulong* keys, float* distances, out nint error);

    /// <summary>A search's lease: taken while the index is current, so it is never taken on a freed index.</summary>
    public void Acquire() => Interlocked.Increment(ref _leases);

    public void Release()
    {
        if (Interlocked.Decrement(ref _leases) == 0)
        {
            _index.Dispose();
            _contexts.Dispose();
        }
    }

    /// <summary>Releases the owner's lease: the index is freed once no search holds one.</summary>
    public void Dispose() => Release();
}
