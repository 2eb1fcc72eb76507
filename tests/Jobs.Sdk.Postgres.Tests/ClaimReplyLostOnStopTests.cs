using System.Runtime.CompilerServices;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A claim that committed but whose reply the worker never read (it stopped meanwhile, or the connection broke): the
/// worker never ran those jobs, so they must not wait out a lease and then count an attempt they never had.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClaimReplyLostOnStopTests(PostgresFixture fixture)
{
    /// <summary>
    /// A lease of about an hour (it never expires within a test: only a give-back frees a job) that no other statement
    /// sends: the claim's bind message carries it (float8, binary), and no prepare message does.
    /// </summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(3_599_321);

    [Fact]
    public async Task A_stop_during_a_claim_whose_reply_never_came_gives_its_jobs_back_uncounted()
    {
        await using var rig = await RigAsync(TimeSpan.FromHours(1));
        await rig.ClaimWithReplyHeldAsync();

        await rig.Q.StopAsync();

        var job = (await rig.Q.Queue.GetJobAsync(rig.Id))!;
        Assert.Equal(0, rig.Ran);
        Assert.True(job.State == JobState.Pending && job.Attempts == 0,
            $"After the stop the job the worker never received is {job.State} with {job.Attempts} attempt(s) counted (worker {job.WorkerId}).");
    }

    [Fact]
    public async Task A_claim_whose_connection_broke_after_it_committed_runs_its_jobs_once_without_waiting_out_the_lease()
    {
        await using var rig = await RigAsync(TimeSpan.FromMilliseconds(200));
        await rig.ClaimWithReplyHeldAsync();

        rig.Proxy.CutHeld(); // the claim's reply is lost with its connection

        await TestExtensions.EventuallyAsync(async () => await rig.StateAsync() == (short)JobState.Completed,
            what: "the job completed (its lease is an hour: only a give-back lets it run before then)");
        var job = (await rig.Q.Queue.GetJobAsync(rig.Id))!;
        Assert.Equal(1, rig.Ran);
        Assert.Equal(1, job.Attempts);
    }

    /// <summary>A proxy, a queue through it (completed jobs kept) with one pushed job on its last attempt, and a direct data source.</summary>
    private async Task<Rig> RigAsync(TimeSpan pollInterval, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        var proxy = PushFaults.StartProxy(fixture);
        var ran = new StrongBox<int>();
        var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) =>
            {
                Interlocked.Increment(ref ran.Value);
                return Task.CompletedTask;
            }),
            driver: o =>
            {
                o.PollInterval = pollInterval;
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes };
            },
            worker: o => o.LeaseDuration = Lease, test: test, dataSource: PushFaults.ThroughProxy(fixture, proxy));
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        return new Rig(proxy, q, fixture.CreateDataSource(), id, ran);
    }

    private sealed record Rig(TcpProxy Proxy, TestQueue Q, NpgsqlDataSource Direct, JobId Id, StrongBox<int> Runs) : IAsyncDisposable
    {
        public int Ran => Volatile.Read(ref Runs.Value);

        /// <summary>Starts the worker with the proxy holding its claim's reply; returns once the claim committed.</summary>
        public async Task ClaimWithReplyHeldAsync()
        {
            var lease = new byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteDoubleBigEndian(lease, Lease.TotalMilliseconds);
            Proxy.HoldRepliesAfter(lease);
            await Q.StartAsync();
            await TestExtensions.EventuallyAsync(async () => await StateAsync() == (short)JobState.Processing, what: "the claim committed");
        }

        public async Task<short> StateAsync()
        {
            await using var command = Direct.CreateCommand("SELECT state FROM jobs_test.jobs WHERE id = $1");
            command.Parameters.Add(new NpgsqlParameter { Value = Id.Value });
            return (short)(await command.ExecuteScalarAsync() ?? (short)-1);
        }

        public async ValueTask DisposeAsync()
        {
            await Direct.DisposeAsync();
            await Q.DisposeAsync();
            await Proxy.DisposeAsync();
        }
    }
}
