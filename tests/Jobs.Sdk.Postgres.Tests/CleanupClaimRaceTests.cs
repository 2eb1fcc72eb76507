using Npgsql;
using static Jobs.Sdk.Postgres.Tests.JobRowLocks;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A job a worker claims between a cleanup batch's pick and its lock: the batch picked it as waiting (its snapshot), waits
/// for the claim's row lock, and then finds it running; it neither deletes nor puts back the running job, nor counts it.
/// Built without sleeps: the claim's transaction holds the row until the cleanup waits for it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CleanupClaimRaceTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_waiting_job_claimed_while_a_cleanup_batch_waits_for_it_is_left_running_and_not_counted(bool rerun)
    {
        var schema = "cleanupclaim_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(direct, schema);
        try
        {
            var (low, high) = Ids;
            await InsertHighFirstAsync(direct, schema, "state, attempts, run_at, updated_at", "0, 0, now() + interval '1 hour', now() - interval '1 hour'");
            await using var driver = new PostgresJobDriver(direct, new PostgresJobDriverOptions { Schema = schema, QueueName = "q" });
            await driver.CountCleanupAsync(new CleanupOptions(), CancellationToken.None);

            // A worker claims the job of the higher id; its transaction is still open.
            await using var worker = await direct.OpenConnectionAsync();
            await using var claim = await worker.BeginTransactionAsync();
            await using (var update = new NpgsqlCommand($"""
                UPDATE "{schema}".jobs SET state = 1, attempts = 1, worker_id = 'w', lease_token = gen_random_uuid(),
                    lease_expires_at = now() + interval '5 minutes', started_at = now(), updated_at = now()
                WHERE id = '{high}'
                """, worker, claim))
            {
                Assert.Equal(1, await update.ExecuteNonQueryAsync());
            }

            var options = new CleanupOptions { PendingJobs = rerun ? CleanupAction.Rerun : CleanupAction.Remove };
            var cleanup = driver.CleanupCountingAsync(options, CancellationToken.None);
            await TestExtensions.EventuallyAsync(async () => cleanup.IsCompleted || await direct.ScalarAsync(Waiting(schema)) > 0,
                what: "the cleanup waits for the claimed job's row");
            Assert.False(cleanup.IsCompleted, "the cleanup ended before it reached the claimed job");
            await claim.CommitAsync();
            var removed = await cleanup;

            Assert.Equal(rerun ? 0 : 1, removed);
            Assert.Equal(1, await direct.ScalarAsync($"SELECT count(*) FROM \"{schema}\".jobs WHERE id = '{high}' AND state = 1 AND worker_id = 'w' AND attempts = 1"));
            Assert.Equal(rerun ? 1 : 0, await direct.ScalarAsync($"SELECT count(*) FROM \"{schema}\".jobs WHERE id = '{low}'"));
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        }
    }
}
