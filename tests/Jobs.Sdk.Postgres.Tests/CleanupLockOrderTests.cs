using static Jobs.Sdk.Postgres.Tests.JobRowLocks;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A cleanup pass (<c>jobs cleanup</c>, <see cref="JobQueue.CleanupAsync(CleanupOptions, CancellationToken)"/>, a scheduled
/// cleanup job) locks the rows of each batch in id order, as an operator's cancel, delete and retry and a worker's outcome
/// batch do (<see cref="AdminCancelLockOrderTests"/>). Its removal and its rerun of waiting jobs deleted or updated them by
/// a <c>ctid</c> array, which a TID scan visits in the table's physical order, so a cleanup and an operator's delete or
/// cancel of the same jobs deadlocked and PostgreSQL aborted one of the two. Built as the cancel's test is: a third
/// transaction holds the row the cleanup reaches first, another transaction locks both rows in id order, no sleeps.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CleanupLockOrderTests(PostgresFixture fixture)
{
    public static TheoryData<string> Actions => ["remove-completed", "remove-pending", "rerun-pending", "rerun-completed"];

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task A_cleanup_of_jobs_an_operator_deletes_does_not_deadlock_with_it(string action)
    {
        var schema = "lockorder_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(direct, schema);
        try
        {
            // Two jobs of one state, the one with the larger id first in the table (a TID scan visits it first).
            var (low, high) = Ids;
            var completed = action.EndsWith("completed", StringComparison.Ordinal);
            await InsertHighFirstAsync(direct, schema, "state, attempts, run_at, finished_at",
                completed ? "3, 1, now() - interval '1 hour', now() - interval '1 minute'" : "0, 1, now() + interval '1 hour', NULL");
            var how = action.StartsWith("remove", StringComparison.Ordinal) ? CleanupAction.Remove : CleanupAction.Rerun;
            var options = completed ? new CleanupOptions { CompletedJobs = how } : new CleanupOptions { PendingJobs = how };
            await using var driver = new PostgresJobDriver(direct, new PostgresJobDriverOptions { Schema = schema, QueueName = "q" });
            // A dry run first: the driver's first call checks its schema, done before a row is held (so only the cleanup's own statements meet it).
            Assert.Equal(how == CleanupAction.Remove ? 2 : 0, await driver.CountCleanupAsync(options, CancellationToken.None));

            // An operator's delete of both jobs locks their rows in id order.
            var (removed, cleanupError, deleteError) = await RaceAsync(direct, schema, low, high,
                async () => (int)await driver.CleanupCountingAsync(options, CancellationToken.None),
                statement: "cleanup", other: "the operator's delete");

            Assert.True(deleteError is null, $"The operator's delete failed: {deleteError?.Message}");
            Assert.True(cleanupError is null, $"The cleanup ({action}) threw {cleanupError?.GetType().Name}: {cleanupError?.Message}");
            if (how == CleanupAction.Remove)
            {
                Assert.Equal(2, removed);
                Assert.Equal(0, await direct.ScalarAsync($"SELECT count(*) FROM \"{schema}\".jobs"));
            }
            else
            {
                Assert.Equal(2, await direct.ScalarAsync($"SELECT count(*) FROM \"{schema}\".jobs WHERE state = 0 AND attempts = 0 AND run_at <= now()"));
            }
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        }
    }
}
