using System.Runtime.CompilerServices;
using Jobs.Sdk.Drivers;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A cancel that commits after a claim committed but before the worker read the claim's reply: the job is running as
/// far as the store knows (so <see cref="JobQueue.CancelAsync"/> returns true), and the cancel's notification can reach
/// the worker before the claim does. The worker must still cancel that claim, not start its handler as if nothing happened.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CancelBeforeClaimReplyTests(PostgresFixture fixture)
{
    /// <summary>A lease of about an hour that only the claim's bind message carries (float8, binary): it marks the claim.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(3_599_321);

    [Fact]
    public async Task A_cancel_heard_before_the_claim_reply_arrived_cancels_that_claim_before_its_handler_starts()
    {
        await using var proxy = PushFaults.StartProxy(fixture);
        var ran = new StrongBox<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) =>
            {
                Interlocked.Increment(ref ran.Value);
                return Task.CompletedTask;
            }),
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, CancelledJobs = Retain.Yes },
            worker: o => o.LeaseDuration = Lease, dataSource: PushFaults.ThroughProxy(fixture, proxy));
        await using var direct = fixture.CreateDataSource();
        var id = await q.Queue.PushAsync(new ValueJob(1));

        var leaseBytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleBigEndian(leaseBytes, Lease.TotalMilliseconds);
        proxy.HoldRepliesAfter(leaseBytes);
        await q.StartAsync();
        await TestExtensions.EventuallyAsync(async () => await StateAsync(direct, id) == (short)JobState.Processing, what: "the claim committed");

        // The worker's listener hears of the cancel while the claim's reply is still held. The worker subscribed first,
        // so once this handler ran, the worker's had too.
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnCancelled(JobLease lease)
        {
            if (lease.Id == id)
            {
                heard.TrySetResult();
            }
        }

        q.Driver.RunningJobCancelled += OnCancelled;
        Assert.True(await q.Queue.CancelAsync(id), "the claimed job was cancelled as a running job");
        await heard.Task.WaitAsync(TimeSpan.FromSeconds(30));
        q.Driver.RunningJobCancelled -= OnCancelled;

        proxy.Resume(); // the claim's reply arrives

        await TestExtensions.EventuallyAsync(async () => await StateAsync(direct, id) is (short)JobState.Cancelled or (short)JobState.Completed,
            what: "the job ended");
        var job = (await q.Queue.GetJobAsync(id))!;
        Assert.True(job.State == JobState.Cancelled && Volatile.Read(ref ran.Value) == 0,
            $"A job whose cancel returned true before its claim reached the worker ended {job.State}, its handler started {Volatile.Read(ref ran.Value)} time(s).");
    }

    private static async Task<short> StateAsync(NpgsqlDataSource db, JobId id)
    {
        await using var command = db.CreateCommand("SELECT state FROM jobs_test.jobs WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = id.Value });
        return (short)(await command.ExecuteScalarAsync() ?? (short)-1);
    }
}
