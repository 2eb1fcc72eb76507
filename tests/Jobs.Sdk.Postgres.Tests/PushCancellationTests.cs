using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A push whose token fires after its statement was sent tells the truth: an OperationCanceledException only when the
/// job is not stored (and never will be), else the push returns the job's id. Npgsql throws an
/// OperationCanceledException, and breaks the connection, when the server does not answer the cancel request within
/// the connection's Cancellation Timeout or the cancel request is lost; the statement may commit all the same. A proxy
/// plays the network (replies held, a cancel request lost); the push waits on its concurrency key's lock, held by the test.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PushCancellationTests(PostgresFixture fixture)
{
    private const string Key = "cancel-key";

    [Fact]
    public async Task A_push_cancelled_after_the_database_stored_the_job_returns_its_id()
    {
        await using var proxy = PushFaults.StartProxy(fixture);
        await using var q = await CreateQueueAsync(proxy);
        await using var direct = fixture.CreateDataSource();
        await using var keyLock = await PushFaults.HoldKeyLockAsync(direct, q.Queue.QueueName, Key);
        using var cts = new CancellationTokenSource();

        var push = q.Queue.PushAsync(new ValueJob(1), new JobOptions { ConcurrencyKey = Key }, cts.Token);
        await PushFaults.WaitingSessionAsync(direct);
        proxy.HoldReplies();
        await keyLock.CommitAsync();
        await TestExtensions.EventuallyAsync(async () => await StoredAsync(direct, q) == 1, what: "the push committed");

        // The cancel request finds the session idle (nothing to cancel); Npgsql gives up on the held reply.
        await cts.CancelAsync();
        var (id, thrown) = await PushFaults.OutcomeAsync(push);

        Assert.True(thrown is null, $"The push threw {thrown?.GetType().Name} ('{thrown?.Message}') although the database stored the job.");
        Assert.Equal(1, await direct.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id!.Value.Value}'"));
        proxy.Resume();
    }

    [Fact]
    public async Task A_push_whose_cancel_request_is_lost_throws_only_when_the_job_is_never_stored()
    {
        await using var proxy = PushFaults.StartProxy(fixture);
        await using var q = await CreateQueueAsync(proxy);
        await using var direct = fixture.CreateDataSource();
        await using var keyLock = await PushFaults.HoldKeyLockAsync(direct, q.Queue.QueueName, Key);
        using var cts = new CancellationTokenSource();

        var push = q.Queue.PushAsync(new ValueJob(1), new JobOptions { ConcurrencyKey = Key }, cts.Token);
        var session = await PushFaults.WaitingSessionAsync(direct);
        proxy.DropNextConnection();
        await cts.CancelAsync();
        var (_, thrown) = await PushFaults.OutcomeAsync(push);

        // The key's lock goes: a statement still alive in the push's session would now store the job.
        await keyLock.CommitAsync();
        await TestExtensions.EventuallyAsync(
            async () => await direct.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid = {session} AND state = 'active'") == 0,
            what: "the push's session is done");
        var stored = await StoredAsync(direct, q);

        Assert.True(thrown is OperationCanceledException && stored == 0,
            $"The push {(thrown is null ? "returned" : $"threw {thrown.GetType().Name} ({thrown.InnerException?.GetType().Name}: {thrown.InnerException?.Message})")} and the database holds {stored} job(s) of it.");
    }

    /// <summary>A queue whose connections go through <paramref name="proxy"/>, each a new one (held replies stay with the connections they were held on).</summary>
    private Task<TestQueue> CreateQueueAsync(TcpProxy proxy, [System.Runtime.CompilerServices.CallerMemberName] string test = "") =>
        TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), test: test,
            dataSource: PushFaults.ThroughProxy(fixture, proxy));

    private static Task<long> StoredAsync(NpgsqlDataSource direct, TestQueue q) =>
        direct.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}'");

}
