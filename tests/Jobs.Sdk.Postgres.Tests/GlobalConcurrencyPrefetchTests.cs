namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A queue's <c>GlobalConcurrency</c> counts every processing job of the queue, claimed ones waiting in a worker's prefetch
/// buffer too: the README asks to keep <c>Prefetch</c> at 0 for such queues. With <c>Prefetch</c> 0 (the default) the
/// worker's adaptive prefetch (<c>AdaptivePrefetch</c>, on by default) must not buffer either, or one process holds the
/// cluster's slots in its buffer while the others have free runners and nothing to run.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class GlobalConcurrencyPrefetchTests(PostgresFixture fixture)
{
    private const int Global = 4;
    private const int Held = 1000; // jobs from this value on wait for the test; below it they return at once

    /// <summary>
    /// Two real hosts of one queue (<c>GlobalConcurrency</c> 4, <c>Prefetch</c> left at 0): host A (one runner) first runs
    /// short jobs, so its adaptive prefetch would buffer; then eight jobs that wait. Host B (four runners) starts once A
    /// runs one of them: four of them must run at once across the two hosts.
    /// </summary>
    [Fact]
    public async Task A_globally_limited_queue_runs_its_limit_at_once_across_hosts_with_the_default_prefetch()
    {
        var queueName = "gcpf_" + Guid.NewGuid().ToString("N")[..8];
        var running = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var shortDone = new Recorder<int>();

        Task<TestQueue> HostAsync(int concurrency) => TestQueue.CreateAsync(fixture,
            b => b.AddQueue(queueName, q => q.GlobalConcurrency = Global)
                .AddJob<ValueJob>(async (job, _, ct) =>
                {
                    if (job.Value < Held)
                    {
                        shortDone.Add(job.Value);
                        return;
                    }

                    Interlocked.Increment(ref running);
                    try
                    {
                        await release.Task.WaitAsync(ct);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref running);
                    }
                }),
            worker: o => o.Concurrency = concurrency, // Prefetch 0 and AdaptivePrefetch true: the defaults
            queueName: queueName);

        await using var a = await HostAsync(1);
        await using var b = await HostAsync(4);
        try
        {
            // Short jobs: A learns that a claim takes far longer than a job (what makes an adaptive buffer deep).
            await a.Queue.PushManyAsync(Enumerable.Range(0, 200).Select(i => new ValueJob(i)));
            await a.StartAsync();
            await shortDone.WaitForCountAsync(200, seconds: 60);
            await TestExtensions.EventuallyAsync(async () => (await a.Driver.GetCountsAsync(default)).Processing == 0, what: "the short jobs' outcomes recorded");

            await a.Queue.PushManyAsync(Enumerable.Range(Held, 8).Select(i => new ValueJob(i)));
            await TestExtensions.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref running) == 1), what: "host A runs one held job");
            await b.StartAsync();

            long processing = 0;
            await TestExtensions.EventuallyAsync(async () =>
                {
                    processing = (await a.Driver.GetCountsAsync(default)).Processing;
                    return Volatile.Read(ref running) == Global;
                }, seconds: 15,
                () => $"GlobalConcurrency = {Global}, two hosts with 5 free runners in all, 8 jobs waiting: only {Volatile.Read(ref running)} ran at once "
                      + $"({processing} processing: the others were claimed into host A's prefetch buffer and held the queue's slots)");
        }
        finally
        {
            release.TrySetResult();
        }
    }
}
