using static Jobs.Sdk.Postgres.Tests.JobRowLocks;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Statements that lock several job rows lock them in one order, by id (the outcome batch, the lease renewal, the
/// operator's delete and retry): two of them never wait for each other in opposite orders. An operator's bulk cancel
/// locked its rows in the order its plan read them (a sequential scan: the table's physical order), so it deadlocked with
/// a worker's outcome batch of the same jobs, and PostgreSQL aborted one of the two. The test builds the interleaving with
/// locks held from other connections (a row held by a third transaction, a worker's id-order locking of the same rows), no sleeps.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AdminCancelLockOrderTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_bulk_cancel_of_jobs_a_worker_is_recording_outcomes_of_does_not_deadlock_with_it()
    {
        var schema = "lockorder_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(direct, schema);
        try
        {
            // Two running jobs, the one with the larger id first in the table (a sequential scan reads it first).
            var (low, high) = Ids;
            await InsertHighFirstAsync(direct, schema, "state, attempts, worker_id, lease_token, lease_expires_at, started_at", "1, 1, 'w1', gen_random_uuid(), now() + interval '1 hour', now()");
            var admin = PostgresJobAdmin.Create(direct, new PostgresJobDriverOptions { Schema = schema });

            // The worker records the outcomes of both jobs: it locks their rows in id order (as the outcome batch does).
            var (changed, cancelError, outcomesError) = await RaceAsync(direct, schema, low, high,
                () => admin.CancelAsync(JobSelection.Ids(new JobId(low), new JobId(high))),
                statement: "cancel", other: "the worker's outcome batch");

            Assert.True(outcomesError is null, $"The worker's outcome batch failed: {outcomesError?.Message}");
            Assert.True(cancelError is null, $"The bulk cancel threw {cancelError?.GetType().Name}: {cancelError?.Message}");
            Assert.Equal(2, changed);
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        }
    }
}
