using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A claim that committed but whose reply the worker never read (it stopped meanwhile, or the connection broke): the
/// worker never ran those jobs, so they must not wait out a lease and then count an attempt they never had.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClaimReplyLostTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>A lease no other statement sends: the claim's bind message carries it (float8, binary) and no prepare does.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(3_599_321);

    [Fact]
    public async Task A_stop_during_a_claim_whose_reply_never_came_gives_its_jobs_back_uncounted()
    {
        await using var proxy = PushFaults.StartProxy(fixture);
        await using var direct = fixture.CreateDataSource();
        var ran = 0;
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) =>
            {
                Interlocked.Increment(ref ran);
                return Task.CompletedTask;
            }),
            driver: o => o.PollInterval = Hour,
            worker: o => o.LeaseDuration = Lease, // the lease never expires within the test: only a give-back frees the job
            dataSource: PushFaults.ThroughProxy(fixture, proxy));
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });

        // The claim reaches the server and commits; its reply stays in the proxy.
        var lease = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleBigEndian(lease, Lease.TotalMilliseconds);
        proxy.HoldRepliesAfter(lease);
        await q.StartAsync();
        await TestExtensions.EventuallyAsync(async () => await StateAsync(direct, id) == (short)JobState.Processing, what: "the claim committed");
        await q.StopAsync();

        var job = (await q.Queue.GetJobAsync(id))!;
        Assert.Equal(0, Volatile.Read(ref ran));
        Assert.True(job.State == JobState.Pending && job.Attempts == 0,
            $"After the stop the job the worker never received is {job.State} with {job.Attempts} attempt(s) counted (worker {job.WorkerId}).");
    }

    [Fact]
    public async Task A_claim_whose_connection_broke_after_it_committed_runs_its_jobs_once_without_waiting_out_the_lease()
    {
        await using var proxy = PushFaults.StartProxy(fixture);
        await using var direct = fixture.CreateDataSource();
        var ran = 0;
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) =>
            {
                Interlocked.Increment(ref ran);
                return Task.CompletedTask;
            }),
            driver: o =>
            {
                o.PollInterval = TimeSpan.FromMilliseconds(200);
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes };
            },
            worker: o => o.LeaseDuration = Lease,
            dataSource: PushFaults.ThroughProxy(fixture, proxy));
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        var lease = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleBigEndian(lease, Lease.TotalMilliseconds);
        proxy.HoldRepliesAfter(lease);
        await q.StartAsync();
        await TestExtensions.EventuallyAsync(async () => await StateAsync(direct, id) == (short)JobState.Processing, what: "the claim committed");

        proxy.CutHeld(); // the claim's reply is lost with its connection

        await TestExtensions.EventuallyAsync(async () => await StateAsync(direct, id) == (short)JobState.Completed,
            what: "the job completed (its lease is an hour: only a give-back lets it run before then)");
        var job = (await q.Queue.GetJobAsync(id))!;
        Assert.Equal(1, Volatile.Read(ref ran));
        Assert.Equal(1, job.Attempts);
    }

    private static async Task<short> StateAsync(NpgsqlDataSource direct, JobId id)
    {
        await using var command = direct.CreateCommand("SELECT state FROM jobs_test.jobs WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = id.Value });
        return (short)(await command.ExecuteScalarAsync() ?? (short)-1);
    }
}
