using System.Buffers;
using System.IO.Hashing;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;

namespace Heimdex.Search.Indexes;

/// <summary>
/// What an index holds now: vectors, owners, owners answered through an HNSW build, builds running (or extended),
/// builds done and builds read from snapshots since start, why the last build could not be built or saved, if one
/// could not, the bytes of the HNSW builds' graphs and quantised vectors (as USearch writes them out), the managed
/// memory of the 8-bit vectors, ids and rows held besides, the bytes of the float vectors on disk, how many times
/// builds were extended by new videos, and the vectors of owners answered through a build that it does not hold yet,
/// which their every search scans.
/// </summary>
public sealed record VectorIndexStatus(
    int Vectors, int Owners, int ApproximateOwners, int BuildsRunning, int BuildsCompleted, int SnapshotsLoaded = 0, string? Problem = null,
    long GraphBytes = 0, long HeldBytes = 0, long FileBytes = 0, int BuildsExtended = 0, int VectorsBesideBuilds = 0);

/// <summary>
/// Which of an owner's scenes a search may return: those of <see cref="Videos"/> (all videos without it) that are
/// in <see cref="Scenes"/> (all their scenes without it).
/// </summary>
public sealed record SceneFilter(IReadOnlySet<Guid>? Videos = null, IReadOnlySet<Guid>? Scenes = null)
{
    public bool Allows(Guid sceneId, Guid videoId) => (Videos is null || Videos.Contains(videoId)) && (Scenes is null || Scenes.Contains(sceneId));
}

/// <summary>
/// The scene embeddings of one space, grouped by owner so a search only ever scans that user's scenes. Memory holds
/// little per vector: the float vectors are in a <see cref="VectorFile"/>; a small library is held at 8 bits per
/// component and scanned in full (SIMD), its best re-ranked by their exact floats; above a threshold an owner's
/// vectors get an <see cref="HnswIndex"/> of <paramref name="graphVectors"/>, built in the background from the file,
/// whose candidates are re-ranked the same way, and the 8-bit copies of the videos it holds are let go. Changes apply
/// at once: a video replaced or removed since the build is never answered from it, and vectors newer than the build
/// are scanned until the build is extended by them in the background, a video at a time; the owner's graph is built
/// anew only once a fifth of its rows are of videos replaced or removed since. Postgres stays the source of truth: the
/// index is loaded from it and reloaded per video; a reload writes the video's floats anew, and once the old ones
/// outweigh those held, the held ones are moved to a new file in the background (<paramref name="compactAbove"/>).
/// With a <paramref name="snapshotDirectory"/> each build is saved there, and after a restart an owner's saved build
/// is read instead of built again: what changed since is scanned until the build is extended by it. A
/// <see cref="SceneFilter"/> applies inside the search: the vectors it allows are scanned (those a build holds by
/// their floats from the file) while <see cref="ScansFiltered"/> says a scan costs less, otherwise the HNSW walk
/// itself skips the rows it rejects.
/// </summary>
public sealed class SceneVectorIndex(
    int approximateAbove = 50_000, string? snapshotDirectory = null, int filteredScanFactor = SceneVectorIndex.FilteredScanFactor,
    GraphVectors graphVectors = GraphVectors.Int8, string? vectorDirectory = null, long compactAbove = SceneVectorIndex.CompactAbove) : IDisposable
{
    /// <summary>
    /// A video's vectors as held now: its scenes in order (a scene may have several vectors), the file and offset its
    /// floats start at, a hash of its scenes and floats (to match a snapshot's rows), and its 8-bit copies while no
    /// build holds it.
    /// </summary>
    private sealed class Video(Guid id, Guid owner, Guid[] scenes, int dimensions, StoredAt stored, ulong contentHash, sbyte[] quantized)
    {
        public Guid Id { get; } = id;

        public Guid Owner { get; } = owner;

        public Guid[] Scenes { get; } = scenes;

        public int Dimensions { get; } = dimensions;

        /// <summary>Replaced, never changed, when a compaction moves the floats to a new file.</summary>
        public StoredAt Stored { get; set; } = stored;

        public ulong ContentHash { get; } = contentHash;

        /// <summary>Set, under the index's lock, once the video is replaced or removed: a build's rows of it answer no more.</summary>
        public bool Retired { get; set; }

        /// <summary>Set to null, under the index's lock, once a build holds the video; a search reads it under the lock.</summary>
        public sbyte[]? Quantized { get; set; } = quantized;

        /// <summary>How many floats the video's vectors are, one after another in the file.</summary>
        public int Floats => Scenes.Length * Dimensions;

        /// <summary>The bytes its floats take in the file.</summary>
        public long Bytes => Floats * (long)sizeof(float);

        /// <summary>Fills <paramref name="into"/> with the floats of the video's vectors from <paramref name="position"/> on.</summary>
        public void Read(int position, Span<float> into)
        {
            // Read once: a compaction may move the video meanwhile, and the file it was read from stays open for this read.
            var stored = Stored;
            stored.File.Read(stored.Offset + (long)position * Dimensions * sizeof(float), into);
        }
    }

    private sealed record StoredAt(VectorFile File, long Offset);

    /// <summary>
    /// At least this many candidates of an 8-bit scan are re-ranked by their floats: the rounding moves a similarity
    /// by a few thousandths, far less than separates the 10th nearest from the 100th.
    /// </summary>
    private const int MinScanCandidates = 100;

    /// <summary>The vector file is compacted only once the floats of replaced and removed videos take more bytes than this.</summary>
    public const long CompactAbove = 64L << 20;

    /// <summary>
    /// A filtered search of a build of <c>n</c> vectors scans the <c>a</c> it allows while <c>a² &lt; factor × n</c>:
    /// a scan costs in proportion to <c>a</c> (about 0.15 µs per vector, floats read from the mapped file), a walk that
    /// skips rejected rows more the smaller the share <c>a / n</c> it keeps (it visits the rows it rejects too), so the
    /// scan wins up to a share of the library that falls as the library grows: 63 % at 100k vectors, 37 % at 300k, 20 %
    /// at 1M. Measured by <c>bench -- vectors</c> (synthetic 384-d vectors, 200 candidates): at 100k a 40 % filter scans
    /// in 4.2 ms and walks in 6.8; at 300k a 20 % one 9.1 and 28.1 ms, a 40 % one 17.6 and 17.9 ms.
    /// </summary>
    public const int FilteredScanFactor = 40_000;

    /// <summary>Whether a search that allows <paramref name="allowed"/> of a build's <paramref name="built"/> vectors scans them rather than walking the graph.</summary>
    public static bool ScansFiltered(int allowed, int built, int factor = FilteredScanFactor) => (long)allowed * allowed < (long)factor * built;

    /// <summary>
    /// An HNSW build over an owner's vectors; row <c>i</c> is a position in the video it came from (none for a row of
    /// a snapshot whose video changed since, or of an extension that failed). <see cref="Covered"/> is the videos it
    /// answers for, read and changed under the index's lock.
    /// </summary>
    private sealed class Approximate(HnswIndex index, Row[] rows, HashSet<Video> covered)
    {
        /// <summary>As long as the graph's room: replaced by a longer copy, never changed but past the graph's rows.</summary>
        private Row[] _rows = rows;

        public HnswIndex Index { get; } = index;

        public HashSet<Video> Covered { get; } = covered;

        /// <summary>Read afresh for each row a search finds: a row the graph returns is in the latest rows, not always in older ones.</summary>
        public Row[] Rows => Volatile.Read(ref _rows);

        /// <summary>The rows its last snapshot holds (none, unless saved or read from one).</summary>
        public int SavedRows { get; set; }

        /// <summary>
        /// Adds the video's vectors to the graph after its rows, with room made for a quarter more rows when it runs
        /// out. One extension at a time (the owner's background work) while searches run: a row is written before the
        /// graph can return it.
        /// </summary>
        public void Extend(Video video, IReadOnlyList<float[]> vectors)
        {
            var first = (int)Index.Count;
            var needed = first + vectors.Count;
            if (needed > _rows.Length)
            {
                var room = Math.Max(needed, _rows.Length + _rows.Length / 4);
                Index.Reserve(room);
                var grown = new Row[room];
                _rows.CopyTo(grown, 0);
                Volatile.Write(ref _rows, grown);
            }

            for (var i = 0; i < vectors.Count; i++)
            {
                _rows[first + i] = new Row(video, i);
            }

            try
            {
                Index.Add(first, vectors);
            }
            catch
            {
                // The rows the graph took answer for nothing: the video stays scanned, and is added again in full later.
                Array.Fill(_rows, default, first, vectors.Count);
                throw;
            }
        }
    }

    private readonly record struct Row(Video? Source, int Position);

    /// <summary>A vector to re-rank by its floats: a position in a video.</summary>
    private readonly record struct Candidate(Video Video, int Position);

    private readonly Lock _lock = new();
    private VectorFile _file = new(vectorDirectory ?? Path.GetTempPath());
    private readonly Dictionary<Guid, Video> _videos = [];
    private readonly Dictionary<Guid, HashSet<Guid>> _videosByOwner = [];
    private readonly Dictionary<Guid, Approximate> _approximate = [];

    /// <summary>Per owner, the videos held now that the owner's build does not hold (all of them before a build): what an unfiltered search scans.</summary>
    private readonly Dictionary<Guid, HashSet<Video>> _uncovered = [];
    private readonly Dictionary<Guid, Task> _building = [];
    private readonly HashSet<Guid> _snapshotsTried = [];
    private Task? _compaction;
    private long _heldBytes;
    private long _garbageBytes;
    private int _buildsCompleted;
    private int _buildsExtended;
    private int _snapshotsLoaded;
    private string? _problem;

    public VectorIndexStatus Status
    {
        get
        {
            VectorIndexStatus status;
            List<HnswIndex> graphs;
            lock (_lock)
            {
                var held = _videos.Values.Sum(v => v.Scenes.Length * (long)Unsafe.SizeOf<Guid>() + (v.Quantized?.Length ?? 0))
                           + _approximate.Values.Sum(a => a.Rows.Length * (long)Unsafe.SizeOf<Row>());
                var besideBuilds = _approximate.Keys.Sum(owner => _uncovered[owner].Sum(v => v.Scenes.Length));
                status = new VectorIndexStatus(_videos.Values.Sum(v => v.Scenes.Length), _videosByOwner.Count(o => o.Value.Count > 0),
                    _approximate.Count, _building.Count, _buildsCompleted, _snapshotsLoaded, _problem, 0, held, _file.Bytes, _buildsExtended, besideBuilds);
                graphs = [.. _approximate.Values.Select(a => a.Index)];
                graphs.ForEach(graph => graph.Acquire());
            }

            // Measured outside the lock: a graph's size waits for the row being added to it, and searches need the lock.
            try
            {
                return status with { GraphBytes = graphs.Sum(graph => graph.Bytes) };
            }
            finally
            {
                graphs.ForEach(graph => graph.Release());
            }
        }
    }

    public bool IsApproximate(Guid ownerId)
    {
        lock (_lock)
        {
            return _approximate.ContainsKey(ownerId);
        }
    }

    /// <summary>Waits until no build and no compaction is running (tests and benchmarks).</summary>
    public void WaitForBackgroundWork()
    {
        while (true)
        {
            Task[] running;
            lock (_lock)
            {
                running = [.. _building.Values, .. _compaction is null ? Array.Empty<Task>() : [_compaction]];
            }

            if (running.Length == 0)
            {
                return;
            }

            Task.WaitAll(running);
        }
    }

    public void Replace(Guid ownerId, Guid videoId, IEnumerable<(Guid SceneId, float[] Vector)> scenes) =>
        ReplaceMany([(ownerId, videoId, scenes)]);

    /// <summary>
    /// Replaces many videos at once: a large owner's approximate index is built once, when all of its videos are in,
    /// not again at every fifth of growth while they arrive.
    /// </summary>
    public void ReplaceMany(IEnumerable<(Guid OwnerId, Guid VideoId, IEnumerable<(Guid SceneId, float[] Vector)> Scenes)> videos) =>
        Publish([.. videos.Select(v => (v.OwnerId, v.VideoId, Hold(v.OwnerId, v.VideoId, [.. v.Scenes])))]);

    /// <summary>
    /// As <see cref="ReplaceMany"/>, for videos read as they come (the API's start): each video's floats go to the file
    /// as it arrives, so no more than the reader's batch of them is ever in memory.
    /// </summary>
    public async Task ReplaceManyAsync(
        IAsyncEnumerable<(Guid OwnerId, Guid VideoId, IEnumerable<(Guid SceneId, float[] Vector)> Scenes)> videos, CancellationToken cancellationToken)
    {
        var held = new List<(Guid, Guid, Video?)>();
        await foreach (var (ownerId, videoId, scenes) in videos.WithCancellation(cancellationToken))
        {
            held.Add((ownerId, videoId, Hold(ownerId, videoId, [.. scenes])));
        }

        Publish(held);
    }

    /// <summary>Makes videos already written to the file the ones searched; searches meanwhile answer from their previous versions.</summary>
    private void Publish(List<(Guid OwnerId, Guid VideoId, Video? Video)> entries)
    {
        lock (_lock)
        {
            foreach (var (ownerId, videoId, video) in entries)
            {
                RemoveLocked(videoId);
                if (video is not null)
                {
                    _videos[videoId] = video;
                    if (!_videosByOwner.TryGetValue(ownerId, out var owned))
                    {
                        _videosByOwner[ownerId] = owned = [];
                    }

                    owned.Add(videoId);
                    if (!_uncovered.TryGetValue(ownerId, out var uncovered))
                    {
                        _uncovered[ownerId] = uncovered = [];
                    }

                    uncovered.Add(video);
                    _heldBytes += video.Bytes;
                }
            }

            foreach (var ownerId in entries.Select(e => e.OwnerId).Distinct())
            {
                KeepBuildCurrentLocked(ownerId);
            }

            CompactIfWastefulLocked();
        }
    }

    /// <summary>A video's floats written to the file and its 8-bit copies made; null for a video without vectors.</summary>
    private Video? Hold(Guid ownerId, Guid videoId, (Guid SceneId, float[] Vector)[] scenes)
    {
        if (scenes.Length == 0)
        {
            return null;
        }

        var dimensions = scenes[0].Vector.Length;
        if (scenes.Any(s => s.Vector.Length != dimensions))
        {
            throw new ArgumentException($"the vectors of video {videoId} differ in length.", nameof(scenes));
        }

        // Postgres hands a video's rows in the order its plan reads them, which another plan (a parallel scan, another
        // index) changes: held in one order, by scene and then vector, a video hashes the same however it was read,
        // and a snapshot still matches it after a restart.
        Array.Sort(scenes, (a, b) => a.SceneId != b.SceneId ? a.SceneId.CompareTo(b.SceneId) : a.Vector.AsSpan().SequenceCompareTo(b.Vector));
        var quantized = new sbyte[scenes.Length * dimensions];
        var hash = new XxHash64();
        Span<byte> id = stackalloc byte[16];
        for (var i = 0; i < scenes.Length; i++)
        {
            Int8Vectors.Quantize(scenes[i].Vector, quantized.AsSpan(i * dimensions, dimensions));
            scenes[i].SceneId.TryWriteBytes(id);
            hash.Append(id);
            hash.Append(MemoryMarshal.AsBytes(scenes[i].Vector.AsSpan()));
        }

        var file = Volatile.Read(ref _file);
        var stored = new StoredAt(file, file.Append([.. scenes.Select(s => s.Vector)]));
        return new Video(videoId, ownerId, [.. scenes.Select(s => s.SceneId)], dimensions, stored, hash.GetCurrentHashAsUInt64(), quantized);
    }

    /// <summary>Receives a video's vectors as an index holds them: its owner, the scene of each vector, and their floats one after another.</summary>
    public delegate void HeldVideoReader(Guid ownerId, ReadOnlySpan<Guid> scenes, int dimensions, ReadOnlySpan<float> floats);

    /// <summary>Hands the video's vectors as held now to <paramref name="read"/>; false when the index holds none of the video.</summary>
    public bool TryRead(Guid videoId, HeldVideoReader read)
    {
        Video? video;
        lock (_lock)
        {
            video = _videos.GetValueOrDefault(videoId);
        }

        if (video is null)
        {
            return false;
        }

        var floats = ArrayPool<float>.Shared.Rent(video.Floats);
        try
        {
            video.Read(0, floats.AsSpan(0, video.Floats));
            read(video.Owner, video.Scenes, video.Dimensions, floats.AsSpan(0, video.Floats));
            return true;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(floats);
        }
    }

    public void Remove(Guid videoId)
    {
        lock (_lock)
        {
            RemoveLocked(videoId);
            CompactIfWastefulLocked();
        }
    }

    /// <summary>The owner's <paramref name="count"/> scenes most similar to <paramref name="query"/> that <paramref name="filter"/> allows, best first.</summary>
    public IReadOnlyList<(Guid SceneId, float Similarity)> Search(Guid ownerId, float[] query, int count, SceneFilter? filter = null)
    {
        List<(Video Video, sbyte[]? Quantized)> scanned;
        Approximate? approximate;
        lock (_lock)
        {
            var allowedVideos = AllowedVideosLocked(ownerId, filter?.Videos);
            // The vectors a filtered search would take the cosine of, were it to scan exactly.
            var allowed = Math.Min(filter?.Videos is null ? int.MaxValue : allowedVideos.Sum(v => v.Scenes.Length), filter?.Scenes?.Count ?? int.MaxValue);
            approximate = _approximate.GetValueOrDefault(ownerId) is { } build && !ScansFiltered(allowed, (int)build.Index.Count, filteredScanFactor) ? build : null;
            approximate?.Index.Acquire();
            var uncovered = approximate is null ? allowedVideos
                : filter?.Videos is null ? _uncovered.GetValueOrDefault(ownerId) ?? []
                : allowedVideos.Where(video => !approximate.Covered.Contains(video));
            scanned = [.. uncovered.Select(video => (video, video.Quantized))];
        }

        try
        {
            return Nearest(query, count, filter, scanned, approximate);
        }
        finally
        {
            approximate?.Index.Release();
        }
    }

    /// <summary>
    /// The best, by exact cosine, of the scanned videos and of the build's candidates that still come from the videos
    /// held now, of the scenes the filter allows. Videos are replaced, never changed (but for letting go of their 8-bit
    /// copies, read under the lock), so this runs outside the lock.
    /// </summary>
    private List<(Guid SceneId, float Similarity)> Nearest(float[] query, int count, SceneFilter? filter,
        List<(Video Video, sbyte[]? Quantized)> scanned, Approximate? approximate)
    {
        var best = new TopK<Guid>(count);
        var candidates = new List<Candidate>();
        // Room for one vector to re-rank, or the largest video whose floats are scanned.
        var floats = ArrayPool<float>.Shared.Rent(scanned.Where(s => s.Quantized is null).Select(s => s.Video.Floats).Append(query.Length).Max());
        try
        {
            var roughly = new TopK<Candidate>(Math.Max(2 * count, MinScanCandidates));
            var quantizedQuery = new sbyte[query.Length];
            Int8Vectors.Quantize(query, quantizedQuery);
            foreach (var (video, quantized) in scanned)
            {
                if (quantized is null)
                {
                    // Held by the build but filtered to too few for its walk: its floats are read and scored as they are.
                    var vectors = floats.AsSpan(0, video.Floats);
                    video.Read(0, vectors);
                    for (var i = 0; i < video.Scenes.Length; i++)
                    {
                        if (filter is null || filter.Allows(video.Scenes[i], video.Id))
                        {
                            best.Offer(video.Scenes[i], TensorPrimitives.Dot(query, vectors.Slice(i * video.Dimensions, video.Dimensions)));
                        }
                    }

                    continue;
                }

                for (var i = 0; i < video.Scenes.Length; i++)
                {
                    if (filter is null || filter.Allows(video.Scenes[i], video.Id))
                    {
                        roughly.Offer(new Candidate(video, i), Int8Vectors.Similarity(quantizedQuery, quantized.AsSpan(i * video.Dimensions, video.Dimensions)));
                    }
                }
            }

            candidates.AddRange(roughly.Ranked.Select(r => r.Item));
            if (approximate is not null)
            {
                // A row without a source (its video changed since the snapshot) or not of the video held now never
                // takes a candidate's place, nor does a row of a video scanned (one the graph is being extended by),
                // nor a row the filter rejects.
                var scannedVideos = scanned.Select(s => s.Video).ToHashSet();
                bool Answers(Row row) => row.Source is { Retired: false } source && !scannedVideos.Contains(source)
                                         && (filter is null || filter.Allows(source.Scenes[row.Position], source.Id));

                var drawn = HnswIndex.CandidatesFor(graphVectors, count);
                var found = filter is null ? approximate.Index.Search(query, drawn) : approximate.Index.Search(query, drawn, row => Answers(approximate.Rows[row]));
                candidates.AddRange(found.Select(row => approximate.Rows[row]).Where(Answers).Select(row => new Candidate(row.Source!, row.Position)));
            }

            var vector = floats.AsSpan(0, query.Length);
            foreach (var (video, position) in candidates)
            {
                video.Read(position, vector);
                best.Offer(video.Scenes[position], TensorPrimitives.Dot(query, vector));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(floats);
        }

        return best.Ranked;
    }

    /// <summary>The <c>k</c> items offered with the highest scores, best first.</summary>
    private sealed class TopK<T>(int k)
    {
        private readonly PriorityQueue<T, float> _kept = new(k + 1);

        public void Offer(T item, float score)
        {
            if (_kept.Count < k)
            {
                _kept.Enqueue(item, score);
            }
            else if (_kept.TryPeek(out _, out var worst) && score > worst)
            {
                _kept.EnqueueDequeue(item, score);
            }
        }

        public List<(T Item, float Score)> Ranked
        {
            get
            {
                var ranked = new List<(T, float)>(_kept.Count);
                while (_kept.TryDequeue(out var item, out var score))
                {
                    ranked.Add((item, score));
                }

                ranked.Reverse();
                return ranked;
            }
        }
    }

    /// <summary>
    /// The owner's videos held now, of <paramref name="only"/> when given, read without copying the owner's list: a
    /// search of a large library must not allocate in proportion to it.
    /// </summary>
    private IEnumerable<Video> AllowedVideosLocked(Guid ownerId, IReadOnlySet<Guid>? only)
    {
        if (!_videosByOwner.TryGetValue(ownerId, out var owned))
        {
            return [];
        }

        return only is null ? owned.Select(v => _videos[v])
            : only.Count < owned.Count ? only.Where(owned.Contains).Select(v => _videos[v])
            : owned.Where(only.Contains).Select(v => _videos[v]);
    }

    private void RemoveLocked(Guid videoId)
    {
        if (_videos.Remove(videoId, out var removed))
        {
            removed.Retired = true;
            _heldBytes -= removed.Bytes;
            _garbageBytes += removed.Stored.File == _file ? removed.Bytes : 0;
            _videosByOwner.GetValueOrDefault(removed.Owner)?.Remove(videoId);
            _uncovered.GetValueOrDefault(removed.Owner)?.Remove(removed);
        }
    }

    /// <summary>
    /// Starts moving the floats of the videos held now to a new file once those of replaced and removed videos take
    /// more of the file than they do, and more than <paramref name="compactAbove"/> bytes: every reload of a video
    /// writes its floats anew. The old file is never disposed here: a search or build may be reading it, and a video
    /// written but not yet published may lie in it; its handle, and with it the disk space, goes when nothing refers
    /// to it any more.
    /// </summary>
    private void CompactIfWastefulLocked()
    {
        if (_compaction is not null || _garbageBytes <= Math.Max(_heldBytes, compactAbove))
        {
            return;
        }

        var fresh = new VectorFile(vectorDirectory ?? Path.GetTempPath());
        Volatile.Write(ref _file, fresh);
        _garbageBytes = 0;
        var moving = _videos.Values.ToList();
        _compaction = Task.Run(() =>
        {
            var floats = ArrayPool<float>.Shared.Rent(moving.Select(video => video.Floats).DefaultIfEmpty().Max());
            string? problem = null;
            try
            {
                foreach (var video in moving)
                {
                    var vectors = floats.AsSpan(0, video.Floats);
                    video.Read(0, vectors);
                    video.Stored = new StoredAt(fresh, fresh.Append(vectors));
                }
            }
            catch (Exception error) when (error is IOException or ObjectDisposedException)
            {
                // The videos not moved yet stay where they are, as readable as before (or the index was disposed).
                problem = $"compacting the vector file failed: {error.Message}";
            }
            finally
            {
                ArrayPool<float>.Shared.Return(floats);
                lock (_lock)
                {
                    _compaction = null;
                    _problem = problem ?? _problem;
                }
            }
        });
    }

    /// <summary>
    /// Starts background work when the owner is large: a first build; an extension of the build by the videos it does
    /// not hold; or, once a fifth or more of its rows answer for nothing (their videos replaced or removed since), a
    /// build anew.
    /// </summary>
    private void KeepBuildCurrentLocked(Guid ownerId)
    {
        if (!_videosByOwner.TryGetValue(ownerId, out var owned) || _building.ContainsKey(ownerId))
        {
            return;
        }

        var videos = owned.Select(v => _videos[v]).ToList();
        var total = videos.Sum(v => v.Scenes.Length);
        var uncovered = _uncovered[ownerId];
        if (total < approximateAbove || uncovered.Count == 0)
        {
            return;
        }

        if (_approximate.GetValueOrDefault(ownerId) is { } current)
        {
            var rows = current.Index.Count;
            var answering = total - uncovered.Sum(v => v.Scenes.Length);
            if ((rows - answering) * 5 < rows)
            {
                ExtendLocked(ownerId, current, [.. uncovered]);
                return;
            }
        }

        // After a restart an owner's first build is read from its snapshot, if it has a usable one.
        var restore = snapshotDirectory is not null && !_approximate.ContainsKey(ownerId) && _snapshotsTried.Add(ownerId);
        _building[ownerId] = Task.Run(() =>
        {
            Approximate? built = null;
            string? problem = null;
            var restored = false;
            try
            {
                restored = restore && (built = Restore(ownerId, videos)) is not null;
                built ??= Build(ownerId, videos, out problem);
            }
            catch (Exception error)
            {
                // The owner's searches keep scanning (slower, never wrong); the next change tries again.
                problem = $"building the HNSW index of owner {ownerId} failed: {error.Message}";
            }

            lock (_lock)
            {
                _building.Remove(ownerId);
                _problem = problem ?? _problem;
                if (built is null)
                {
                    return;
                }

                _approximate.GetValueOrDefault(ownerId)?.Index.Dispose();
                _approximate[ownerId] = built;
                _uncovered[ownerId] = [.. _videosByOwner[ownerId].Select(v => _videos[v]).Where(video => !built.Covered.Contains(video))];
                // The build holds these videos now; every later build holds them too while they are current.
                foreach (var video in built.Covered)
                {
                    video.Quantized = null;
                }

                if (restored)
                {
                    _snapshotsLoaded++;
                }
                else
                {
                    _buildsCompleted++;
                }

                KeepBuildCurrentLocked(ownerId);
            }
        });
    }

    /// <summary>
    /// Adds the videos to the owner's build in the background, a video at a time, each answered from the graph (and
    /// no longer scanned) once it is in; a video replaced or removed meanwhile is left to its rows' check.
    /// </summary>
    private void ExtendLocked(Guid ownerId, Approximate build, List<Video> adding)
    {
        // Held so that the graph outlives a disposal of the index while rows are still being added to it.
        build.Index.Acquire();
        _building[ownerId] = Task.Run(() =>
        {
            string? problem = null;
            var extended = false;
            try
            {
                foreach (var video in adding)
                {
                    build.Extend(video, [.. ReadVectors(video)]);
                    lock (_lock)
                    {
                        if (!video.Retired)
                        {
                            build.Covered.Add(video);
                            _uncovered[ownerId].Remove(video);
                            video.Quantized = null;
                        }
                    }
                }

                extended = true;
                // Saved again once it has grown by a fifth since its snapshot, so that a restart has little to add.
                if (build.Index.Count - build.SavedRows >= build.SavedRows / 5)
                {
                    problem = Save(ownerId, build);
                }
            }
            catch (Exception error)
            {
                // The videos not added yet stay scanned (slower, never wrong); the next change tries again.
                problem = $"extending the HNSW index of owner {ownerId} failed: {error.Message}";
            }
            finally
            {
                build.Index.Release();
            }

            lock (_lock)
            {
                _building.Remove(ownerId);
                _problem = problem ?? _problem;
                if (extended)
                {
                    _buildsExtended++;
                    KeepBuildCurrentLocked(ownerId);
                }
            }
        });
    }

    /// <summary>A new build over the owner's vectors read from the file, saved as its snapshot (a save that fails is a problem, not a failed build).</summary>
    private Approximate Build(Guid ownerId, List<Video> videos, out string? problem)
    {
        problem = null;
        var rows = videos.SelectMany(v => Enumerable.Range(0, v.Scenes.Length).Select(i => new Row(v, i))).ToArray();
        var index = HnswIndex.Build(videos[0].Dimensions, rows.Length, () => videos.SelectMany(ReadVectors), graphVectors);
        var built = new Approximate(index, rows, [.. videos]);
        problem = Save(ownerId, built);
        return built;
    }

    /// <summary>
    /// Saves the build as the owner's snapshot, if snapshots are kept; a row that answers for nothing is saved as
    /// answering for nothing. Only from the owner's background work: the graph is not added to meanwhile.
    /// </summary>
    private string? Save(Guid ownerId, Approximate build)
    {
        if (snapshotDirectory is null)
        {
            return null;
        }

        try
        {
            var count = (int)build.Index.Count;
            IndexSnapshot.Save(snapshotDirectory, ownerId, build.Index, [.. build.Rows.Take(count).Select(row => row.Source is { Retired: false } source
                ? new SnapshotRow(source.Scenes[row.Position], source.Id, source.ContentHash)
                : default)]);
            build.SavedRows = count;
            return null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or USearchException)
        {
            return $"saving the HNSW index of owner {ownerId} to {snapshotDirectory} failed: {error.Message}";
        }
    }

    /// <summary>A video's vectors, read from the file in one call: they lie one after another.</summary>
    private IEnumerable<float[]> ReadVectors(Video video)
    {
        var floats = new float[video.Floats];
        video.Read(0, floats);
        return floats.Chunk(video.Dimensions);
    }

    /// <summary>
    /// The owner's saved build over the videos held now: a video counts as held by it (not scanned) only if it is
    /// unchanged since the save, scenes and vectors alike; the rows of every other video are never answered from.
    /// </summary>
    private Approximate? Restore(Guid ownerId, List<Video> videos)
    {
        if (IndexSnapshot.TryLoad(snapshotDirectory!, ownerId) is not { } snapshot)
        {
            return null;
        }

        var (index, saved) = snapshot;
        try
        {
            var current = videos.ToDictionary(v => v.Id);
            var positions = new Dictionary<Guid, int>();
            var rows = saved.Select(row =>
            {
                // Rows were saved video by video in scene order: the n-th row of a video is its n-th vector.
                var position = positions[row.VideoId] = positions.GetValueOrDefault(row.VideoId, -1) + 1;
                return current.TryGetValue(row.VideoId, out var video) && video.ContentHash == row.ContentHash && position < video.Scenes.Length
                    ? new Row(video, position)
                    : new Row(null, 0);
            }).ToArray();
            var matched = rows.Where(r => r.Source is not null).CountBy(r => r.Source!.Id).ToDictionary();
            var covered = videos.Where(v => matched.GetValueOrDefault(v.Id) == v.Scenes.Length).ToHashSet();
            // A video that is scanned is never answered from the graph as well.
            return new Approximate(index, [.. rows.Select(r => r.Source is { } source && !covered.Contains(source) ? new Row(null, 0) : r)], covered)
            {
                SavedRows = rows.Length,
            };
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var approximate in _approximate.Values)
            {
                approximate.Index.Dispose();
            }

            _approximate.Clear();
        }

        _file.Dispose();
    }
}
