using System.Diagnostics;
using System.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <content>
/// The warm-up before a measured drain: the JIT must be done before the clock starts. Tiered compilation promotes a
/// method after 30 calls (and again after 30 more with dynamic PGO), counting only once no new method has been compiled
/// for 100 ms. The code a worker runs once per claim or completion batch (the driver's claim and outcome paths, Npgsql's
/// round trip) is called a few hundred times in a 20,000-job drain: with a warm-up of one batch of 200 jobs, ~3,000
/// methods were still compiled during the measured drain, 0.3–0.7 s of a background thread on a 1 s drain (measured with
/// <c>perf</c> and the runtime's perf map, 2026-12-02): the client CPU per job measured mostly the JIT, and differently
/// from run to run.
/// </content>
internal static partial class EndToEndBenchmark
{
    /// <summary>Warm-up jobs are pushed in batches of this size (each push, a claim).</summary>
    private const int WarmUpBatch = 10;
    private const int MinWarmUpRounds = 8;
    private const int MaxWarmUpRounds = 30;

    /// <summary>Longer than tiered compilation's call-counting delay (100 ms), so promotions due after a round happen in it.</summary>
    private static readonly TimeSpan JitQuiet = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Pushes and drains rounds of <see cref="BenchOptions.WarmUp"/> jobs (default 200) with a throwaway worker (JIT,
    /// connection pool) until two rounds in a row compile no method (at least <see cref="MinWarmUpRounds"/> rounds, or
    /// <see cref="BenchOptions.WarmUpRounds"/> when that is more), then stops it.
    /// </summary>
    private static async Task WarmUpWorkersAsync(BenchOptions o, NpgsqlDataSource ds, string schema, string queue)
    {
        var recorder = new Recorder(0);
        await using var sp = Build(ds, o, schema, queue, recorder);
        var jobs = sp.GetRequiredService<JobQueue>();
        var worker = sp.HostedWorkerOf();
        await worker.StartAsync(CancellationToken.None).ConfigureAwait(false);
        var compiled0 = JitInfo.GetCompiledMethodCount();
        var quietRounds = 0;
        var rounds = 0;
        var minRounds = Math.Max(MinWarmUpRounds, o.WarmUpRounds);
        while (rounds < Math.Max(MaxWarmUpRounds, minRounds) && (rounds < minRounds || quietRounds < 2))
        {
            var before = JitInfo.GetCompiledMethodCount();
            await PushBatchesAsync(jobs, o.WarmUp, WarmUpBatch, -1).ConfigureAwait(false);
            rounds++;
            await recorder.ReachAsync((long)rounds * o.WarmUp, Timeout).ConfigureAwait(false);
            await Task.Delay(JitQuiet).ConfigureAwait(false);
            quietRounds = JitInfo.GetCompiledMethodCount() == before ? quietRounds + 1 : 0;
        }

        await worker.StopAsync(CancellationToken.None).ConfigureAwait(false);
        Log($"warm-up: {rounds} rounds of {o.WarmUp} jobs, {JitInfo.GetCompiledMethodCount() - compiled0} methods compiled");
    }

    /// <summary>Waits (at most 5 s) until the JIT has compiled nothing for <see cref="JitQuiet"/> (after the measured jobs' pushes).</summary>
    private static async Task WaitForJitQuietAsync()
    {
        var deadline = Stopwatch.StartNew();
        long count;
        do
        {
            count = JitInfo.GetCompiledMethodCount();
            await Task.Delay(JitQuiet).ConfigureAwait(false);
        }
        while (JitInfo.GetCompiledMethodCount() != count && deadline.Elapsed < TimeSpan.FromSeconds(5));
    }
}
