using static Jobs.Sdk.Postgres.Tests.JobRowLocks;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An operator's retry (or a cleanup pass that reruns failed jobs) of finished unique jobs that released their keys first
/// releases the keys of their expired holders (<see cref="UniqueRetrySql"/>), and locks those holders in id order, as an
/// operator's delete of them does. It locked them in the order its join read them (the keys' order, or the table's), so a
/// retry of the jobs and a delete of their expired holders deadlocked and PostgreSQL aborted one of the two. Built as
/// <see cref="AdminCancelLockOrderTests"/> is: a third transaction holds the holder the retry reaches first, another
/// transaction locks both holders in id order, no sleeps.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniqueRetryLockOrderTests(PostgresFixture fixture)
{
    private static readonly (Guid A, Guid B) Retried = (new Guid("00000000-0000-7000-8000-000000000003"), new Guid("00000000-0000-7000-8000-000000000004"));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_retry_of_jobs_whose_expired_key_holders_an_operator_deletes_does_not_deadlock_with_it(bool cleanupRerun)
    {
        var schema = "lockorder_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(direct, schema);
        try
        {
            // Cancelled holders of keys a (the larger id, first in the table) and b, their hold over; then two failed jobs
            // that released keys a and b, which a retry gives back to them (releasing the holders' keys first).
            var (low, high) = Ids;
            foreach (var (id, state, key, released) in new[]
                     {
                         (high, 5, "'a'", "NULL"), (low, 5, "'b'", "NULL"), (Retried.A, 4, "NULL", "'a'"), (Retried.B, 4, "NULL", "'b'"),
                     })
            {
                await direct.ExecAsync($"""
                    INSERT INTO "{schema}".jobs (id, queue_name, name, payload, state, attempts, finished_at, unique_key, released_unique_key)
                    VALUES ('{id}', 'q', 'job', '{"{}"}', {state}, 1, now() - interval '1 hour', {key}, {released})
                    """);
            }

            await direct.ExecAsync($"ANALYZE \"{schema}\".jobs");
            var admin = PostgresJobAdmin.Create(direct, new PostgresJobDriverOptions { Schema = schema });
            await using var driver = new PostgresJobDriver(direct, new PostgresJobDriverOptions { Schema = schema, QueueName = "q" });
            await driver.CountCleanupAsync(new CleanupOptions(), CancellationToken.None); // the driver's first call checks its schema: before a row is held

            // An operator's delete of both holders locks their rows in id order.
            var (_, retryError, deleteError) = await RaceAsync(direct, schema, low, high,
                async () => cleanupRerun
                    ? (int)await driver.CleanupCountingAsync(new CleanupOptions { FailedJobs = CleanupAction.Rerun }, CancellationToken.None)
                    : await admin.RetryAsync(JobSelection.Ids(new JobId(Retried.A), new JobId(Retried.B))),
                statement: "retry", other: "the operator's delete of the holders");

            Assert.True(deleteError is null, $"The operator's delete of the holders failed: {deleteError?.Message}");
            Assert.True(retryError is null, $"The {(cleanupRerun ? "cleanup rerun" : "retry")} threw {retryError?.GetType().Name}: {retryError?.Message}");
            Assert.Equal(2, await direct.ScalarAsync($"""
                SELECT count(*) FROM "{schema}".jobs WHERE id IN ('{Retried.A}', '{Retried.B}') AND state = 0 AND unique_key IS NOT NULL
                """));
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        }
    }
}
