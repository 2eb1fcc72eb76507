using System.Collections.Concurrent;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A queue pause that commits after a claim committed but before the worker read the claim's reply: the pause's
/// notification reaches the worker first, when the claimed jobs are not yet in its hands. The jobs that claim put in the
/// prefetch buffer (not started) must still be given back, as the ones already buffered are, not started by the next free
/// runner while the queue is paused.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PauseBeforeClaimReplyTests(PostgresFixture fixture)
{
    /// <summary>A lease of about an hour that only the claim's bind message carries (float8, binary): it marks the claim.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(3_599_317);

    [Fact]
    public async Task A_queue_pause_heard_before_the_claim_reply_arrived_gives_back_that_claims_buffered_jobs()
    {
        await using var proxy = PushFaults.StartProxy(fixture);
        var started = new ConcurrentQueue<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
            {
                started.Enqueue(job.Value);
                return Task.CompletedTask;
            }),
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes },
            worker: o =>
            {
                o.LeaseDuration = Lease;
                o.Concurrency = 1;
                o.Prefetch = 2;
            }, dataSource: PushFaults.ThroughProxy(fixture, proxy));
        await using var direct = fixture.CreateDataSource();
        var ids = await q.Queue.PushManyAsync([new ValueJob(1), new ValueJob(2), new ValueJob(3)]);
        var queue = q.Queue.QueueName;

        var leaseBytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleBigEndian(leaseBytes, Lease.TotalMilliseconds);
        proxy.HoldRepliesAfter(leaseBytes);
        await q.StartAsync();
        await TestExtensions.EventuallyAsync(async () => await direct.ScalarAsync(
            $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state = {(int)JobState.Processing}") == 3,
            what: "one claim took the three jobs (one to start, two into the buffer)");

        // The worker's listener hears of the pause while the claim's reply is still held. The worker subscribed first, so
        // once this handler ran, the worker's had too.
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnPaused() => heard.TrySetResult();
        q.Driver.QueuePaused += OnPaused;
        Assert.True(await q.Queue.PauseQueueAsync(queue));
        await heard.Task.WaitAsync(TimeSpan.FromSeconds(30));
        q.Driver.QueuePaused -= OnPaused;

        proxy.Resume(); // the claim's reply arrives

        // The job the claim started runs; the two buffered ones end pending again (the fix) or completed (their handlers started in the pause).
        var settled = $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state IN ({(int)JobState.Pending}, {(int)JobState.Completed})";
        await TestExtensions.EventuallyAsync(async () => await direct.ScalarAsync(settled) == 3, what: "every job given back or completed");
        var completed = await direct.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state = {(int)JobState.Completed}");
        Assert.True(completed == 1 && started.Count == 1,
            $"After PauseQueueAsync returned and the worker heard it, {started.Count} handler(s) started (jobs {string.Join(", ", started)}) and {completed} of the 3 jobs completed; only the one the claim started (before the pause) may run, the 2 it buffered must wait for ResumeQueueAsync.");

        Assert.True(await q.Queue.ResumeQueueAsync(queue));
        await TestExtensions.EventuallyAsync(async () => await direct.ScalarAsync(
            $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state = {(int)JobState.Completed}") == 3, what: "the buffered jobs ran after the resume");
        Assert.Equal(3, started.Count);
        _ = ids;
    }
}
