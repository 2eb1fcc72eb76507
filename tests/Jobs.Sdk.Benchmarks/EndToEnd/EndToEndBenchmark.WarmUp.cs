using System.Diagnostics;
using System.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <content>
/// The warm-ups before a measured drain and a latency window: the JIT must be done before the clock starts. Tiered compilation promotes a
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

    /// <summary>Most rounds of <see cref="LatencyWarmUpJobs"/> spaced pushes before a latency window.</summary>
    private const int MaxLatencyWarmUpRounds = 20;

    /// <summary>
    /// The warm-up before the <c>latency</c> window: rounds of <see cref="LatencyWarmUpJobs"/> single pushes
    /// <see cref="LatencySpacing"/> apart (the measured path: a push, an idle worker's wake-up, a claim of one job) until
    /// two rounds in a row compile no method (at most <see cref="MaxLatencyWarmUpRounds"/>), so the window measures a
    /// worker at steady state and not the tier-ups of its path (the twenty-seventh stop: 1,400–3,400 methods compiled
    /// during the 300 measured jobs after the one round used before, a background compile competing with the wake-up for
    /// the cores). <paramref name="cold"/> (<c>--cold-latency</c>): one round, as before. Returns the warm-up jobs run.
    /// </summary>
    private static async Task<int> WarmUpLatencyAsync(JobQueue queue, Recorder recorder, bool cold)
    {
        var compiled0 = JitInfo.GetCompiledMethodCount();
        var rounds = 0;
        var quietRounds = 0;
        while (rounds < (cold ? 1 : MaxLatencyWarmUpRounds) && quietRounds < 2)
        {
            var before = JitInfo.GetCompiledMethodCount();
            for (var i = 0; i < LatencyWarmUpJobs; i++)
            {
                await queue.PushAsync(new BenchJob(-1, 0)).ConfigureAwait(false);
                await Task.Delay(LatencySpacing).ConfigureAwait(false);
            }

            rounds++;
            await recorder.ReachAsync((long)rounds * LatencyWarmUpJobs, Timeout).ConfigureAwait(false);
            await Task.Delay(JitQuiet).ConfigureAwait(false);
            quietRounds = JitInfo.GetCompiledMethodCount() == before ? quietRounds + 1 : 0;
        }

        await Task.Delay(500).ConfigureAwait(false);
        _ = recorder.TakeLatencies();
        Log($"latency warm-up: {rounds} rounds of {LatencyWarmUpJobs} jobs, {JitInfo.GetCompiledMethodCount() - compiled0} methods compiled");
        return rounds * LatencyWarmUpJobs;
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
