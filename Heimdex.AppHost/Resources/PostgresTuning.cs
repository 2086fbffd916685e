using System.Globalization;

namespace Heimdex.AppHost.Resources;

/// <summary>
/// The settings the AppHost's PostgreSQL runs with instead of its defaults (sized for a 1990s machine: 128 MB of
/// buffers, 4 MB per sort, costs that assume spinning disks), sized from the memory of the machine it runs on.
/// </summary>
public static class PostgresTuning
{
    private const long MiB = 1024 * 1024;

    /// <summary>A setting whose value is an amount of memory, whole mebibytes; Postgres shows it in its own units.</summary>
    public sealed record MemorySetting(string Name, long Bytes)
    {
        public long Bytes { get; } = Bytes / MiB * MiB;

        public string Value => string.Create(CultureInfo.InvariantCulture, $"{Bytes / MiB}MB");
    }

    /// <summary>
    /// Memory: a quarter of it for shared buffers (PostgreSQL's own guidance; at most 8 GB, beyond which the kernel's
    /// page cache serves as well), half as the planner's estimate of what is cached (so it prefers index scans), 16
    /// MB per sort or hash (the RUM index sorts a large owner's tens of thousands of matches by rank in memory), a
    /// sixteenth, at most 1 GB, for index builds and vacuum (the RUM index of documents over a million scenes).
    /// </summary>
    public static IReadOnlyList<MemorySetting> Memory(long machineBytes) =>
    [
        new("shared_buffers", Math.Clamp(machineBytes / 4, 128 * MiB, 8192 * MiB)),
        new("effective_cache_size", Math.Max(machineBytes / 2, 256 * MiB)),
        new("work_mem", 16 * MiB),
        new("maintenance_work_mem", Math.Clamp(machineBytes / 16, 64 * MiB, 1024 * MiB)),
    ];

    /// <summary>
    /// Solid-state storage (a random read costs little more than a sequential one, many can be in flight); no JIT
    /// (search's statements run for milliseconds, and compiling a plan whose estimate looks large costs tens of
    /// them); checkpoints spaced for bulk indexing rather than forced every 1 GB of WAL.
    /// </summary>
    public static IReadOnlyList<(string Name, string Value)> Planner { get; } =
    [
        ("random_page_cost", "1.1"),
        ("effective_io_concurrency", "200"),
        ("jit", "off"),
        ("max_wal_size", "4GB"),
    ];

    /// <summary>Every setting as <c>-c name=value</c> arguments of the server.</summary>
    public static IEnumerable<string> Arguments(long machineBytes) =>
        Memory(machineBytes).Select(setting => (setting.Name, setting.Value)).Concat(Planner).SelectMany(setting => (string[])["-c", $"{setting.Name}={setting.Value}"]);

    /// <summary>The memory of this machine, or of the container or cgroup it is limited to.</summary>
    public static long MachineBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
}
