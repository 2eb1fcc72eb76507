using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The idle queues of a host poll in turns (<see cref="IdlePollTurnTests"/>). A poll that waits for a lock holds its turn:
/// a rate-limited queue's claim waits for its token bucket's row while another session holds it (a process cut off in the
/// middle of its claim keeps its transaction open until the server notices), a globally limited one for the queue's claim
/// lock. The other idle queues of the host must keep polling meanwhile.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IdlePollTurnLockTests(PostgresFixture fixture)
{
    /// <summary>
    /// One host, poll-only (no LISTEN, as behind PgBouncer in transaction mode), two idle queues: the default one and a
    /// rate-limited one whose bucket row the test locks. A job pushed to the default queue by another process (nothing
    /// wakes the host but its polls, every 100 ms) must run within 10 s, while the rate-limited queue's poll waits for the
    /// row (up to the connection's command timeout, 30 s by default).
    /// </summary>
    [Fact]
    public async Task An_idle_queue_whose_poll_waits_for_a_lock_does_not_stop_the_other_idle_queues_polls()
    {
        var prefix = "turnlock_" + Guid.NewGuid().ToString("N")[..8];
        var limited = prefix + "_limited";
        var ran = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestQueue.CreateAsync(fixture,
            b => b.AddQueue(limited, q => q.RateLimit = RateLimit.PerSecond(100))
                .AddJob<ValueJob>((_, c, _) =>
                {
                    ran.TrySetResult(c.QueueName);
                    return Task.CompletedTask;
                }),
            driver: o =>
            {
                o.UseListenNotify = false;
                o.HeldConnectionIdleTimeout = TimeSpan.FromMilliseconds(200);
            },
            worker: o => o.LeaseDuration = TimeSpan.FromSeconds(1), // idle means a whole lease without work too
            queueName: prefix);
        await using var pusher = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: prefix);
        await host.DataSource.ExecAsync(
            $"INSERT INTO jobs_test.queue_rate_limits (queue_name, tokens, refilled_at) VALUES ('{limited}', 1, now())");

        await host.StartAsync();
        JobWorker[] queues = [host.Worker, .. host.Worker.Lanes];
        Assert.Equal([prefix, limited], queues.Select(q => q.QueueName));
        // 30 polls each (3 s at 100 ms): both queues idle for longer than a lease and the idle timeout, their held connections released.
        await TestExtensions.EventuallyAsync(() => Task.FromResult(queues.All(q => q.Claims >= 30)), 60, "both queues poll idle");

        await using var blocker = await host.DataSource.OpenConnectionAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand($"SELECT tokens FROM jobs_test.queue_rate_limits WHERE queue_name = '{limited}' FOR UPDATE", blocker, transaction))
        {
            await lockRow.ExecuteScalarAsync();
        }

        await TestExtensions.EventuallyAsync(async () => await pusher.DataSource.ScalarAsync(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%queue_rate_limits%'") > 0, 30,
            "the rate-limited queue's poll waits for its bucket's row");

        var before = queues.Select(q => q.Claims).ToArray();
        var pushedId = await pusher.Queue.PushAsync(new ValueJob(1));
        var queue = await ran.Task.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null, TaskScheduler.Default);
        var job = await host.Queue.GetJobAsync(pushedId);
        Assert.True(queue == prefix,
            $"A job pushed to an idle queue did not run within 10 s (its poll every 100 ms) while another idle queue's poll of the host waited for a lock " +
            $"(the rate-limited queue's bucket row): the queue polled {queues[0].Claims - before[0]} times meanwhile, the job is {job?.State} " +
            $"(ran in: {queue ?? "none"})");
        await transaction.RollbackAsync();
    }
}
