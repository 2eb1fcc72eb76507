using static Jobs.Sdk.Postgres.Tests.JobRowLocks;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An operator's bulk set-priority and run-now lock their rows in id order, as cancel, delete, retry and a worker's
/// outcome batch do (<see cref="AdminCancelLockOrderTests"/>). They locked them in the order their plan read them (a
/// sequential scan: the table's physical order), so two operators' bulk actions on the same jobs (a set-priority and a
/// cancel) deadlocked and PostgreSQL aborted one of them. Built as the cancel's test is: a third transaction holds the
/// row the action reads first, another transaction locks both rows in id order, no sleeps.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AdminBulkLockOrderTests(PostgresFixture fixture)
{
    public static TheoryData<string> Actions => ["set-priority", "run-now"];

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task A_bulk_action_on_jobs_another_operator_cancels_does_not_deadlock_with_it(string action)
    {
        var schema = "lockorder_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(direct, schema);
        try
        {
            // Two delayed pending jobs, the one with the larger id first in the table (a sequential scan reads it first).
            var (low, high) = Ids;
            await InsertHighFirstAsync(direct, schema, "state, priority, run_at", "0, 2, now() + interval '1 hour'");
            var admin = PostgresJobAdmin.Create(direct, new PostgresJobDriverOptions { Schema = schema });
            var selection = JobSelection.Ids(new JobId(low), new JobId(high));

            // Another operator's bulk cancel of both jobs locks their rows in id order.
            var (changed, bulkError, cancelError) = await RaceAsync(direct, schema, low, high,
                () => action == "set-priority" ? admin.SetPriorityAsync(selection, JobPriority.Highest) : admin.RunNowAsync(selection),
                statement: "bulk action", other: "the other operator's cancel");

            Assert.True(cancelError is null, $"The other operator's cancel failed: {cancelError?.Message}");
            Assert.True(bulkError is null, $"The bulk {action} threw {bulkError?.GetType().Name}: {bulkError?.Message}");
            Assert.Equal(2, changed);
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        }
    }
}
