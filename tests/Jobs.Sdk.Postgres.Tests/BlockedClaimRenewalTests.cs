using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A worker host's claims and lease renewals of one queue take turns on the queue's held connection. A claim of a
/// globally limited queue waits for the queue's claim lock while another session holds it (a process cut off in the
/// middle of its claim keeps its transaction open until the server notices; a rate-limited queue's claim waits so for
/// its bucket's row). The leases of the queue's running jobs must still be renewed meanwhile: lost, their handlers are
/// cancelled and the lease rescue runs the jobs again.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BlockedClaimRenewalTests(PostgresFixture fixture)
{
    /// <summary>
    /// One host, a queue with <c>GlobalConcurrency</c> 4 and a 3 s lease, one job running (its handler waits for the test);
    /// the test holds the queue's claim lock, so the worker's next claim waits for it (up to the command timeout, 30 s by
    /// default). The job's lease must be renewed past two more leases from then, and its handler's token not cancelled.
    /// </summary>
    [Fact]
    public Task A_claim_waiting_for_the_queues_claim_lock_does_not_stop_the_renewals_of_the_queues_running_jobs()
        => RenewalsGoOnWhileBlockedAsync("the queue's claim lock", q => q.GlobalConcurrency = 4,
            async (queueName, locker) =>
            {
                // The queue's claim lock (JobSql.LockQueueClaims), held as a claim of a process cut off in its transaction holds it.
                await using var take = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended('jobs.claim:' || $1, 0))", locker);
                take.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "\"jobs_test\":" + queueName });
                await take.ExecuteNonQueryAsync();
            },
            "wait_event_type = 'Lock' AND wait_event = 'advisory'", "SELECT pg_advisory_unlock_all()");

    /// <summary>
    /// The same with a rate-limited queue (100 a second, a 3 s lease): the test locks the queue's token bucket row
    /// (<c>queue_rate_limits</c>) in a transaction of its own, as a claimer cut off between its refill and its commit
    /// holds it, so the worker's next claim waits for the row. The job's lease must be renewed meanwhile.
    /// </summary>
    [Fact]
    public Task A_rate_limited_claim_waiting_for_the_queues_bucket_row_does_not_stop_the_renewals_of_the_queues_running_jobs()
        => RenewalsGoOnWhileBlockedAsync("the queue's token bucket row", q => q.RateLimit = RateLimit.PerSecond(100),
            async (queueName, locker) =>
            {
                await using var begin = new NpgsqlCommand("BEGIN", locker);
                await begin.ExecuteNonQueryAsync();
                await using var lockRow = new NpgsqlCommand("SELECT tokens FROM jobs_test.queue_rate_limits WHERE queue_name = $1 FOR UPDATE", locker);
                lockRow.Parameters.Add(new NpgsqlParameter<string> { TypedValue = queueName });
                Assert.NotNull(await lockRow.ExecuteScalarAsync()); // the bucket's row exists: the first claim made it
            },
            "wait_event_type = 'Lock' AND query LIKE '%queue_rate_limits%'", "ROLLBACK");

    /// <summary>
    /// One host serving a queue configured by <paramref name="limit"/> with a 3 s lease and one job running; the test takes
    /// <paramref name="what"/> on a connection of its own (<paramref name="block"/>) until the worker's next claim waits for
    /// it (a session in <c>pg_stat_activity</c> matching <paramref name="waiting"/>), and gives it back with <paramref name="unblock"/>
    /// (the pool keeps a closed connection's session, and its locks, until the connection is used again). The job's lease must be renewed past
    /// two more leases from then, and its handler's token not cancelled; the claims that gave up on the lock meanwhile are
    /// logged once (event 1016, naming it), nothing as an error; once the lock is free, the queue's next job starts.
    /// </summary>
    private async Task RenewalsGoOnWhileBlockedAsync(string what, Action<QueueOptions> limit, Func<string, NpgsqlConnection, Task> block, string waiting,
        string unblock)
    {
        var queueName = "blkclaim_" + Guid.NewGuid().ToString("N")[..8];
        var lease = TimeSpan.FromSeconds(3);
        var started = new TaskCompletionSource<JobId>(TaskCreationOptions.RunContinuationsAsynchronously);
        var next = new TaskCompletionSource<JobId>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = false;
        using var log = new LevelLog();
        await using var host = await TestQueue.CreateAsync(fixture,
            b => b.AddLogging(log).AddQueue(queueName, limit)
                .AddJob<ValueJob>(async (job, c, ct) =>
                {
                    if (job.Value == 2)
                    {
                        next.TrySetResult(c.Id);
                        return;
                    }

                    started.TrySetResult(c.Id);
                    try
                    {
                        await release.Task.WaitAsync(ct);
                    }
                    catch (OperationCanceledException)
                    {
                        Volatile.Write(ref cancelled, true);
                        throw;
                    }
                }),
            worker: o => o.LeaseDuration = lease,
            queueName: queueName);
        await using var locker = await host.DataSource.OpenConnectionAsync();
        try
        {
            await host.Queue.PushAsync(new ValueJob(1));
            await host.StartAsync();
            var id = await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

            await block(queueName, locker);
            await TestExtensions.EventuallyAsync(async () => await host.DataSource.ScalarAsync(
                    $"SELECT count(*) FROM pg_stat_activity WHERE {waiting} AND pid <> pg_backend_pid()") > 0, 30,
                $"the worker's next claim waits for {what}");
            var blockedAt = await ScalarTimeAsync(host.DataSource, "SELECT now()", id);

            var sql = $"SELECT lease_expires_at FROM jobs_test.jobs WHERE id = $1";
            DateTime? expires = null;
            await TestExtensions.EventuallyAsync(async () =>
                {
                    expires = await ScalarTimeAsync(host.DataSource, sql, id);
                    return expires > blockedAt + 2 * lease;
                }, 20,
                () => $"The running job's lease (3 s) was not renewed while its queue's claim waited for {what}: it expires at {expires:HH:mm:ss.fff}, " +
                      $"the claim waits since {blockedAt:HH:mm:ss.fff} (the renewals waited behind it); its handler's token was " +
                      $"{(Volatile.Read(ref cancelled) ? "cancelled (lease lost)" : "not cancelled")}");
            Assert.False(Volatile.Read(ref cancelled), $"The running job's handler was cancelled while its queue's claim waited for {what}");
            var gaveUp = Assert.Single(log.Warnings, static w => w.Entry.Contains("[1016]", StringComparison.Ordinal));
            Assert.Contains(what, gaveUp.Entry, StringComparison.Ordinal);
            Assert.Empty(log.Errors);

            await using (var free = new NpgsqlCommand(unblock, locker))
            {
                await free.ExecuteNonQueryAsync();
            }

            await host.Queue.PushAsync(new ValueJob(2));
            await next.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the queue claims again once the lock is free
        }
        finally
        {
            await locker.CloseAsync(); // a lock still held ends with the session, when the host disposes its data source
            release.TrySetResult();
        }
    }

    private static async Task<DateTime?> ScalarTimeAsync(NpgsqlDataSource dataSource, string sql, JobId id)
    {
        await using var command = dataSource.CreateCommand(sql);
        if (sql.Contains("$1", StringComparison.Ordinal))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.Value });
        }

        return await command.ExecuteScalarAsync() is DateTime t ? t : null;
    }
}

/// <summary>The test's log on a jobs builder.</summary>
file static class LoggingOnBuilder
{
    public static JobsBuilder AddLogging(this JobsBuilder builder, LevelLog log)
    {
        builder.Services.AddLogging(l => l.AddProvider(log));
        return builder;
    }
}
