using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A claim's reply that reaches its worker only after the lease ended (a partition held it): by then another worker may
/// have rescued the job and be running it. The late worker must not start it too.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StaleClaimReplyTests(PostgresFixture fixture)
{
    /// <summary>A lease of a bit under 2 s that only the late worker's claim sends (float8, binary): it marks that claim.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(1_777.321);

    [Fact]
    public async Task A_claim_whose_reply_came_after_its_lease_ended_is_not_started_while_another_worker_runs_the_job()
    {
        await using var proxy = PushFaults.StartProxy(fixture);
        var lateRuns = 0;
        var events = new EventIdLog();
        await using var late = await TestQueue.CreateAsync(fixture, b =>
            {
                b.Services.AddLogging(l => l.AddProvider(events));
                b.AddJob<ValueJob>((_, _, _) =>
                {
                    Interlocked.Increment(ref lateRuns);
                    return Task.CompletedTask;
                });
            },
            worker: o => o.LeaseDuration = Lease, dataSource: PushFaults.ThroughProxy(fixture, proxy));
        await using var direct = fixture.CreateDataSource();
        var id = await late.Queue.PushAsync(new ValueJob(1));

        var leaseBytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleBigEndian(leaseBytes, Lease.TotalMilliseconds);
        proxy.HoldRepliesAfter(leaseBytes);
        await late.StartAsync();
        await TestExtensions.EventuallyAsync(async () => await direct.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id}' AND state = 1") == 1,
            what: "the late worker's claim committed");
        await TestExtensions.EventuallyAsync(
            async () => await direct.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id}' AND lease_expires_at < now()") == 1,
            what: "its lease ended on the server");

        // Another worker rescues the job and runs it; its handler holds the job until the test lets it go.
        var otherStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var other = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, _, _) =>
            {
                otherStarted.TrySetResult();
                await release.Task;
            }),
            worker: o => o.RescueInterval = TimeSpan.FromMilliseconds(100), queueName: late.Queue.QueueName);
        await other.StartAsync();
        await otherStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));

        proxy.Resume(); // the late worker reads its claim now
        await TestExtensions.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref lateRuns) > 0 || events.Ids.Contains(1012)),
            what: "the late worker started the job or reported that its lease had ended");
        var ranTwice = Volatile.Read(ref lateRuns);
        release.TrySetResult();
        Assert.True(ranTwice == 0, $"The late worker started the job {ranTwice} time(s) after its lease had ended, while another worker ran it.");
        await TestExtensions.EventuallyAsync(async () => await direct.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id}' AND state = 1") == 0,
            what: "the job finished");
    }
}
