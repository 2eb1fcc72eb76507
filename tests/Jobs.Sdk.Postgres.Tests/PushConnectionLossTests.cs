using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A push whose connection breaks after its statements were sent (the network drops, a proxy resets, the reply is lost)
/// tells the truth, as a cancelled one does: it returns when the database stored its jobs (and they are announced), it
/// throws the connection's NpgsqlException only when they are not stored (and never will be), and it throws
/// JobPushOutcomeUnknownException when the database cannot be reached to find out. A proxy plays the network: it lets a
/// push's request reach the server and holds the reply until the test cuts the connection, or drops the request with
/// its connection. Each push's request is found by a marker in its payload (or by its COMMIT).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PushConnectionLossTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private const string Key = "lost-key";

    [Fact]
    public async Task A_push_whose_reply_is_lost_after_its_commit_returns_its_id()
    {
        await using var rig = await RigAsync();
        var (proxy, q, direct) = rig;
        var marker = Guid.NewGuid().ToString("N");

        var push = await rig.PushWithReplyHeldAsync(marker);
        proxy.CutHeld();
        var (id, thrown) = await PushFaults.OutcomeAsync(push);

        Assert.True(thrown is null, $"The push threw {Describe(thrown)} although the database stored the job.");
        Assert.Equal(1, await direct.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id!.Value.Value}'"));
    }

    [Fact]
    public async Task A_keyed_push_whose_reply_is_lost_after_its_commit_returns_and_wakes_an_idle_worker()
    {
        var ran = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The worker polls once an hour and keeps completed jobs: only the push's announcement can get the job run in time.
        await using var worker = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((job, _, _) => { ran.TrySetResult(job.Message); return Task.CompletedTask; }),
            driver: o =>
            {
                o.PollInterval = Hour;
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes };
            });
        await worker.StartAsync();
        await worker.ListeningAsync();
        await using var rig = await RigAsync(worker.Queue.QueueName);
        var (proxy, q, direct) = rig;
        var marker = Guid.NewGuid().ToString("N");

        var push = await rig.PushWithReplyHeldAsync(marker, new JobOptions { ConcurrencyKey = "lost-reply" });
        proxy.CutHeld();
        var (_, thrown) = await PushFaults.OutcomeAsync(push);

        Assert.True(thrown is null, $"The push threw {Describe(thrown)} although the database stored the job.");
        Assert.Equal(marker, await ran.Task.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_large_batch_whose_commit_reply_is_lost_returns_all_its_ids()
    {
        await using var rig = await RigAsync();
        var (proxy, q, direct) = rig;
        const int count = 10_001; // several statements, in one round trip and one transaction of the push's own
        var marker = Guid.NewGuid().ToString("N"); // the last job's, in the round trip's last statement

        proxy.HoldRepliesAfter(marker);
        var push = q.Queue.PushManyAsync(Enumerable.Range(0, count).Select(i => new MessageJob(i, i == count - 1 ? marker : "batch")));
        await TestExtensions.EventuallyAsync(async () => await StoredAsync(direct, q.Queue.QueueName) == count, seconds: 120, what: "the batch committed");
        proxy.CutHeld();
        IReadOnlyList<JobId>? ids = null;
        Exception? thrown = null;
        try
        {
            ids = await push.WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch (Exception ex) when (ex is not TimeoutException)
        {
            thrown = ex;
        }

        Assert.True(thrown is null, $"The push threw {Describe(thrown)} although the database stored the batch.");
        Assert.Equal(count, ids!.Distinct().Count());
        Assert.Equal(count, await direct.ScalarAsync(
            $"SELECT count(*) FROM jobs_test.jobs WHERE id = ANY(ARRAY['{string.Join("','", ids!.Select(i => i.Value))}']::uuid[])"));
    }

    [Fact]
    public async Task A_large_batch_whose_end_is_lost_on_its_way_throws_and_stores_none_of_it()
    {
        await using var rig = await RigAsync();
        var (proxy, q, direct) = rig;

        const int count = 10_001; // several statements, in one round trip and one transaction of the push's own
        var marker = Guid.NewGuid().ToString("N"); // the last job's: the statements before it reach the server, its end does not

        proxy.DropRequest(marker);
        var (_, thrown) = await PushFaults.OutcomeAsync(q.Queue.PushManyAsync(Enumerable.Range(0, count).Select(i => new MessageJob(i, i == count - 1 ? marker : "batch"))));
        var stored = await StoredAsync(direct, q.Queue.QueueName);

        Assert.True(thrown is NpgsqlException and not PostgresException && stored == 0,
            $"The push {(thrown is null ? "returned" : $"threw {Describe(thrown)}")} and the database holds {stored} job(s) of it.");
    }

    [Fact]
    public async Task A_push_whose_request_is_lost_with_its_connection_throws_and_stores_nothing()
    {
        await using var rig = await RigAsync();
        var (proxy, q, direct) = rig;
        var marker = Guid.NewGuid().ToString("N");

        proxy.DropRequest(marker);
        var (_, thrown) = await PushFaults.OutcomeAsync(q.Queue.PushAsync(new MessageJob(1, marker)));
        var stored = await StoredAsync(direct, q.Queue.QueueName);

        Assert.True(thrown is NpgsqlException and not PostgresException && stored == 0,
            $"The push {(thrown is null ? "returned" : $"threw {Describe(thrown)}")} and the database holds {stored} job(s) of it.");
    }

    [Fact]
    public async Task A_push_whose_reply_is_lost_while_the_database_is_out_of_reach_throws_outcome_unknown_with_its_id()
    {
        await using var rig = await RigAsync();
        var (proxy, q, direct) = rig;
        var marker = Guid.NewGuid().ToString("N");

        var push = await rig.PushWithReplyHeldAsync(marker);
        proxy.RefuseConnections();
        proxy.CutHeld();
        var (_, thrown) = await PushFaults.OutcomeAsync(push);

        var unknown = Assert.IsType<JobPushOutcomeUnknownException>(thrown, exactMatch: true);
        var id = Assert.Single(unknown.JobIds);
        Assert.Equal(1, await direct.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id.Value}'"));
    }

    [Fact]
    public async Task A_push_whose_reply_is_lost_while_the_database_is_briefly_out_of_reach_returns_its_id_once_it_is_back()
    {
        await using var rig = await RigAsync();
        var (proxy, q, direct) = rig;
        var marker = Guid.NewGuid().ToString("N");

        var push = await rig.PushWithReplyHeldAsync(marker);
        proxy.RefuseConnections(); // a server restart, as the client sees it: the settling connection is refused ...
        var refused = proxy.ConnectionsRefused;
        proxy.CutHeld();
        await TestExtensions.EventuallyAsync(() => Task.FromResult(proxy.ConnectionsRefused > refused), what: "the settle tried and was refused");
        proxy.AcceptConnections(); // ... and the server is back within the settle's time
        var (id, thrown) = await PushFaults.OutcomeAsync(push);

        Assert.True(thrown is null, $"The push threw {thrown?.GetType().Name} ('{thrown?.Message}') although the database stored the job and came back.");
        Assert.Equal(1, await direct.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id!.Value.Value}'"));
    }

    [Fact]
    public async Task A_push_the_server_answers_with_an_error_throws_it_without_settling_anything()
    {
        await using var rig = await RigAsync();
        var (proxy, q, direct) = rig;
        await using var keyLock = await PushFaults.HoldKeyLockAsync(direct, q.Queue.QueueName, Key);
        var accepted = proxy.ConnectionsAccepted;

        var push = q.Queue.PushAsync(new MessageJob(1, "answered"), new JobOptions { ConcurrencyKey = Key });
        var session = await PushFaults.WaitingSessionAsync(direct);
        await direct.ExecAsync($"SELECT pg_cancel_backend({session})"); // the server's error, on a connection that stays up
        var (_, thrown) = await PushFaults.OutcomeAsync(push);
        await keyLock.CommitAsync();

        Assert.Equal(PostgresErrorCodes.QueryCanceled, Assert.IsType<PostgresException>(thrown, exactMatch: true).SqlState);
        Assert.Equal(accepted + 1, proxy.ConnectionsAccepted); // the push's own: no connection to settle an answered push
        Assert.Equal(0, await StoredAsync(direct, q.Queue.QueueName));
    }

    [Fact]
    public async Task A_push_whose_session_is_ended_by_the_server_throws_its_error_when_nothing_is_stored()
    {
        await using var rig = await RigAsync();
        var (proxy, q, direct) = rig;
        await using var keyLock = await PushFaults.HoldKeyLockAsync(direct, q.Queue.QueueName, Key);

        var push = q.Queue.PushAsync(new MessageJob(1, "ended"), new JobOptions { ConcurrencyKey = Key });
        var session = await PushFaults.WaitingSessionAsync(direct);
        await direct.ExecAsync($"SELECT pg_terminate_backend({session})"); // a fatal error: the session ends, the connection breaks
        var (_, thrown) = await PushFaults.OutcomeAsync(push);
        await keyLock.CommitAsync();

        Assert.Equal(PostgresErrorCodes.AdminShutdown, Assert.IsType<PostgresException>(thrown, exactMatch: true).SqlState);
        Assert.Equal(0, await StoredAsync(direct, q.Queue.QueueName));
    }

    [Fact]
    public async Task A_push_in_the_callers_transaction_is_the_callers_to_settle()
    {
        await using var proxy = PushFaults.StartProxy(fixture);
        await using var q = await CreateQueueAsync(proxy);
        var marker = Guid.NewGuid().ToString("N");
        await using var connection = await q.DataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var accepted = proxy.ConnectionsAccepted;

        proxy.DropRequest(marker);
        var (_, thrown) = await PushFaults.OutcomeAsync(q.Queue.PushAsync(new MessageJob(1, marker), tx));

        // The connection's own error, and no connection of the driver's to settle anything: the transaction never commits.
        Assert.True(thrown is NpgsqlException and not PostgresException, $"The push {(thrown is null ? "returned" : $"threw {Describe(thrown)}")}.");
        Assert.Equal(accepted, proxy.ConnectionsAccepted);
    }

    /// <summary>A queue whose connections go through <paramref name="proxy"/>, each a new one, polling once an hour (no worker runs).</summary>
    private Task<TestQueue> CreateQueueAsync(TcpProxy proxy, string? queueName = null, [System.Runtime.CompilerServices.CallerMemberName] string test = "") =>
        TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask), driver: o => o.PollInterval = Hour, queueName: queueName,
            test: test, dataSource: PushFaults.ThroughProxy(fixture, proxy));

    private async Task<Rig> RigAsync(string? queueName = null, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        var proxy = PushFaults.StartProxy(fixture);
        return new Rig(proxy, await CreateQueueAsync(proxy, queueName, test), fixture.CreateDataSource());
    }

    /// <summary>A proxy, a queue whose connections go through it, and a direct data source that looks at the database.</summary>
    private sealed record Rig(TcpProxy Proxy, TestQueue Q, NpgsqlDataSource Direct) : IAsyncDisposable
    {
        /// <summary>Pushes a job whose replies the proxy holds from its request on; returns the push once the job is committed.</summary>
        public async Task<Task<JobId>> PushWithReplyHeldAsync(string marker, JobOptions? options = null)
        {
            Proxy.HoldRepliesAfter(marker);
            var push = Q.Queue.PushAsync(new MessageJob(1, marker), options);
            await TestExtensions.EventuallyAsync(async () => await StoredAsync(Direct, Q.Queue.QueueName) == 1, what: "the push committed");
            return push;
        }

        public async ValueTask DisposeAsync()
        {
            await Direct.DisposeAsync();
            await Q.DisposeAsync();
            await Proxy.DisposeAsync();
        }
    }

    private static Task<long> StoredAsync(NpgsqlDataSource direct, string queue) =>
        direct.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}'");

    private static string Describe(Exception? thrown) =>
        thrown is null ? "nothing" : $"{thrown.GetType().Name} ('{thrown.Message}'{(thrown.InnerException is { } inner ? $"; {inner.GetType().Name}: {inner.Message}" : "")})";

}
