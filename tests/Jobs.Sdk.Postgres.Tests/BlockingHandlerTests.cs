using Npgsql;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Handlers that block their thread (synchronous I/O, waits) in a worker process of their own.</summary>
[Collection(PostgresCollection.Name)]
public sealed class BlockingHandlerTests(PostgresFixture fixture, ITestOutputHelper output)
{
    /// <summary>
    /// Sixteen handlers (Concurrency 16, on a machine with fewer cores) each hold a thread-pool thread until the test lets
    /// them go: in a synchronous database call (-1), or blocked in <c>.Wait()</c> on asynchronous ones (-2, sync over
    /// async: the pool adds a thread as each blocks, so it keeps finishing work while the renewals wait behind the
    /// handlers; before the stall watch also timed a probe of its own, the leases lapsed about 2.5 s after the claim). The worker's heartbeat must keep every one of their leases alive all
    /// the while: a lease that lapses lets any worker's rescue run the job again while its handler still runs, which the
    /// guarantees allow only for a dead, frozen or cut-off worker.
    /// </summary>
    [Theory]
    [InlineData(-1)]
    [InlineData(-2)]
    public async Task Handlers_blocking_their_threads_at_full_concurrency_keep_their_leases_until_they_return(int workMs)
    {
        const int jobs = 16;
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { });
        var table = await ProcessTests.CreateRunsTableAsync(setup.DataSource);
        var queue = setup.Queue.QueueName;
        var gate = await setup.DataSource.OpenConnectionAsync();
        await using (var hold = new NpgsqlCommand($"SELECT pg_advisory_lock(hashtext('{table}'))", gate))
        {
            await hold.ExecuteNonQueryAsync();
        }

        await setup.Queue.PushManyAsync(Enumerable.Range(0, jobs).Select(i => new RecordJob(i)));
        using var worker = await WorkerProcess.StartAsync(fixture.ConnectionString, queue, table, concurrency: jobs, leaseSeconds: 2, workMs: workMs);

        // Watch (database clock) until every handler is blocked and their leases went through 10 more renewals, or until
        // the lease of a job whose handler runs has lapsed (or was rescued).
        string? lapse = null;
        DateTime? earliestLease = null;
        var renewals = 0;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (lapse is null && renewals < 10)
        {
            Assert.True(DateTime.UtcNow < deadline, $"hang guard: {renewals} renewals of all {jobs} leases seen");
            await using var look = setup.DataSource.CreateCommand($"""
                SELECT (SELECT count(*) FROM jobs_test.{table}),
                       (SELECT min(lease_expires_at) FROM jobs_test.jobs WHERE queue_name = '{queue}'),
                       (SELECT string_agg(format('job %s: state %s, lease %s, now %s, attempts %s, error %s', j.id, j.state, j.lease_expires_at, now(), j.attempts, j.last_error), '; ')
                        FROM jobs_test.jobs j JOIN jobs_test.{table} r ON r.job_id = j.id
                        WHERE j.state <> {(int)JobState.Processing} OR j.lease_expires_at IS NULL OR j.lease_expires_at < now())
                """);
            await using var reader = await look.ExecuteReaderAsync();
            await reader.ReadAsync();
            var started = reader.GetInt64(0);
            lapse = reader.IsDBNull(2) ? null : $"{reader.GetString(2)} ({started} of {jobs} handlers had started)";
            if (started == jobs && !reader.IsDBNull(1))
            {
                var earliest = reader.GetDateTime(1);
                if (earliestLease is { } seen && earliest > seen)
                {
                    renewals++;
                }

                earliestLease = earliest;
            }

            await Task.Delay(20);
        }

        output.WriteLine($"renewal rounds seen with every handler blocked: {renewals}; lapse: {lapse ?? "none"}");
        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock(hashtext('{table}'))", gate))
        {
            await release.ExecuteNonQueryAsync(); // lets the handlers return
        }

        await gate.DisposeAsync();
        Assert.Null(lapse);
        await TestExtensions.EventuallyAsync(async () => ProcessTests.Live(await setup.Queue.GetCountsAsync()) == 0, seconds: 120, what: "queue drained");
        Assert.Equal(0, await worker.StopAsync());
        Assert.Equal(1L, await setup.DataSource.ScalarAsync($"SELECT max(runs) FROM jobs_test.{table}"));
        Assert.Equal((long)jobs, await setup.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}"));
    }
}
