using System.Runtime.CompilerServices;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <see cref="ClaimReplyLostOnStopTests"/> for the claims under a queue's limits. A rate-limited claim runs in a
/// transaction (refill, claim, spend a token per job, commit): a reply lost before its COMMIT rolls everything back, but
/// one lost after the COMMIT reached the server left the jobs processing under a lease the worker never heard of, and
/// the tokens spent. Such a job must run once, its attempt uncounted, without waiting out the lease or for the rate to
/// earn its token again. A claim under <c>GlobalConcurrency</c> is one statement, as an ordinary claim.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LimitedClaimReplyLostTests(PostgresFixture fixture)
{
    /// <summary>A lease of about an hour (it never expires within a test: only a give-back frees a job) that no other statement sends.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(3_599_321);

    /// <summary>One start an hour, a burst of one: the bucket's one token is the only start the test has without a refund.</summary>
    private static readonly RateLimit OneAnHour = RateLimit.PerMinute(1.0 / 60);

    [Fact]
    public async Task A_rate_limited_claim_whose_commit_reply_was_lost_runs_its_job_once_uncounted_with_its_token_given_back()
    {
        await using var rig = await RigAsync(q => q.RateLimit = OneAnHour);

        // The COMMIT of the claim's transaction reaches the server; its reply is held, then lost with the connection.
        await rig.ClaimWithReplyHeldAsync(Commit, committed: true);
        rig.Proxy.CutHeld();

        await rig.CompletesOnceAsync();
        Assert.Equal(0d, await rig.TokensAsync(), 0.5); // the token the lost claim spent came back, and the run spent it
    }

    [Fact]
    public async Task A_stop_during_a_rate_limited_claims_commit_whose_reply_never_came_gives_its_job_and_token_back()
    {
        await using var rig = await RigAsync(q => q.RateLimit = OneAnHour);
        await rig.ClaimWithReplyHeldAsync(Commit, committed: true);

        await rig.Q.StopAsync();

        var job = (await rig.Q.Queue.GetJobAsync(rig.Id))!;
        Assert.Equal(0, Volatile.Read(ref rig.Runs.Value));
        Assert.True(job.State == JobState.Pending && job.Attempts == 0,
            $"After the stop the job the worker never received is {job.State} with {job.Attempts} attempt(s) counted.");
        Assert.Equal(1d, await rig.TokensAsync(), 0.5);
    }

    [Fact]
    public async Task A_rate_limited_claim_whose_statement_reply_was_lost_rolls_back_and_runs_its_job_once()
    {
        await using var rig = await RigAsync(q => q.RateLimit = OneAnHour);

        // The claim statement's reply: its transaction (which has claimed the job, not yet committed) never commits.
        await rig.ClaimWithReplyHeldAsync(LeaseBytes(), committed: false);
        rig.Proxy.CutHeld();

        await rig.CompletesOnceAsync();
        Assert.Equal(0d, await rig.TokensAsync(), 0.5);
    }

    [Fact]
    public async Task A_claim_under_a_global_concurrency_whose_reply_was_lost_runs_its_job_once_uncounted()
    {
        await using var rig = await RigAsync(q => q.GlobalConcurrency = 1);

        await rig.ClaimWithReplyHeldAsync(LeaseBytes(), committed: true);
        rig.Proxy.CutHeld();

        await rig.CompletesOnceAsync();
    }

    /// <summary>The COMMIT query message whole (the BEGIN before it is sent as "... ISOLATION LEVEL READ COMMITTED").</summary>
    private static readonly byte[] Commit = "Q\0\0\0\u000bCOMMIT\0"u8.ToArray();

    /// <summary>The lease as the claim's bind message carries it (float8, binary).</summary>
    private static byte[] LeaseBytes()
    {
        var lease = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleBigEndian(lease, Lease.TotalMilliseconds);
        return lease;
    }

    /// <summary>A proxy, a queue with <paramref name="limits"/> through it (completed jobs kept) with one pushed job on its last attempt.</summary>
    private async Task<Rig> RigAsync(Action<QueueOptions> limits, [CallerMemberName] string test = "")
    {
        var proxy = PushFaults.StartProxy(fixture);
        var ran = new StrongBox<int>();
        var queueName = "limited_lost_" + Guid.NewGuid().ToString("N")[..8];
        var q = await TestQueue.CreateAsync(fixture, b => b
                .AddQueue(queueName, limits)
                .AddJob<ValueJob>((_, _, _) =>
                {
                    Interlocked.Increment(ref ran.Value);
                    return Task.CompletedTask;
                }),
            driver: o =>
            {
                o.PollInterval = TimeSpan.FromMilliseconds(200);
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes };
            },
            worker: o => o.LeaseDuration = Lease, queueName: queueName, test: test, dataSource: PushFaults.ThroughProxy(fixture, proxy));
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        return new Rig(proxy, q, fixture.CreateDataSource(), id, queueName, ran);
    }

    private sealed record Rig(TcpProxy Proxy, TestQueue Q, NpgsqlDataSource Direct, JobId Id, string QueueName, StrongBox<int> Runs) : IAsyncDisposable
    {
        /// <summary>
        /// Starts the worker with the proxy holding the reply to the first request carrying <paramref name="request"/>; returns
        /// once the job is claimed: committed (processing), or claimed by a transaction that has not committed (the pending
        /// row carries its transaction's id in <c>xmax</c>).
        /// </summary>
        public async Task ClaimWithReplyHeldAsync(byte[] request, bool committed)
        {
            Proxy.HoldRepliesAfter(request);
            await Q.StartAsync();
            await TestExtensions.EventuallyAsync(async () => committed
                ? await StateAsync() == (short)JobState.Processing
                : await ScalarAsync($"SELECT xmax::text <> '0' FROM jobs_test.jobs WHERE id = $1 AND state = {(int)JobState.Pending}", Id.Value) is true,
                what: committed ? "the claim committed" : "the claim ran, uncommitted");
        }

        /// <summary>The job completes (its lease is an hour, its rate one start an hour: only a give-back lets it run before then), once, on attempt 1.</summary>
        public async Task CompletesOnceAsync()
        {
            await TestExtensions.EventuallyAsync(async () => await StateAsync() == (short)JobState.Completed, seconds: 60,
                what: "the job completed (only a give-back of the lost claim, and of its token, lets it run within the hour)");
            var job = (await Q.Queue.GetJobAsync(Id))!;
            Assert.Equal(1, Volatile.Read(ref Runs.Value));
            Assert.Equal(1, job.Attempts);
        }

        public async Task<short> StateAsync() => (short)(await ScalarAsync("SELECT state FROM jobs_test.jobs WHERE id = $1", Id.Value) ?? (short)-1);

        public async Task<double> TokensAsync()
            => (double)(await ScalarAsync("SELECT tokens FROM jobs_test.queue_rate_limits WHERE queue_name = $1", QueueName) ?? double.NaN);

        private async Task<object?> ScalarAsync(string sql, object parameter)
        {
            await using var command = Direct.CreateCommand(sql);
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
            return await command.ExecuteScalarAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await Direct.DisposeAsync();
            await Q.DisposeAsync();
            await Proxy.DisposeAsync();
        }
    }
}
