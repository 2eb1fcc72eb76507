using System.Globalization;
using System.Runtime;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>
/// The .NET runtime's own work over the drain (<c>--explain</c>): bytes allocated per job (every thread), collections by
/// generation, methods the JIT compiled (tier-up and new methods) with their compile time, thread-pool work items
/// (each a hand-over between threads, often a wake-up) and contended locks.
/// </summary>
internal static class RuntimeCounters
{
    public readonly record struct Snapshot(long Allocated, int Gen0, int Gen1, int Gen2, long Jitted, TimeSpan JitTime, TimeSpan PauseTime, long WorkItems, long LockContention);

    public static Snapshot Take() => new(GC.GetTotalAllocatedBytes(precise: true), GC.CollectionCount(0), GC.CollectionCount(1),
        GC.CollectionCount(2), JitInfo.GetCompiledMethodCount(), JitInfo.GetCompilationTime(), GC.GetTotalPauseDuration(),
        ThreadPool.CompletedWorkItemCount, Monitor.LockContentionCount);

    public static string Describe(Snapshot a, Snapshot b, long jobs) => string.Create(CultureInfo.InvariantCulture,
        $"client runtime during the drain: {(b.Allocated - a.Allocated) / (double)jobs:0} bytes allocated/job, " +
        $"GCs gen0/1/2 {b.Gen0 - a.Gen0}/{b.Gen1 - a.Gen1}/{b.Gen2 - a.Gen2} (paused {(b.PauseTime - a.PauseTime).TotalMilliseconds:0.#} ms), " +
        $"{b.Jitted - a.Jitted} methods JIT-compiled in {(b.JitTime - a.JitTime).TotalMilliseconds:0.#} ms " +
        $"({(b.JitTime - a.JitTime).TotalMilliseconds * 1000 / jobs:0.##} µs/job), {(b.WorkItems - a.WorkItems) / (double)jobs:0.###} thread-pool work items/job " +
        $"({ThreadPool.ThreadCount} threads), {(b.LockContention - a.LockContention) / (double)jobs:0.###} lock contentions/job, GC mode {(GCSettings.IsServerGC ? "server" : "workstation")}");
}
