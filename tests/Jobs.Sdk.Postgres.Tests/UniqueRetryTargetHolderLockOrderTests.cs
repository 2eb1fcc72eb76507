using static Jobs.Sdk.Postgres.Tests.JobRowLocks;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An operator's retry (or a cleanup rerun) of a finished unique job that released its key, racing an operator's delete
/// of that job and of its key's expired holder together (the holder's id the lower): the delete locks both in id order.
/// Built as <see cref="UniqueRetryLockOrderTests"/>: a third transaction holds the retried job's row, no sleeps. The retry
/// locked its targets first and the holders second, so it got the job, then waited for the holder the delete held while
/// the delete waited for the job: PostgreSQL aborted one of the two (40P01). It locks both in one id order now.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniqueRetryTargetHolderLockOrderTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_retry_racing_a_delete_of_the_retried_job_and_its_expired_holder_does_not_deadlock_with_it(bool cleanupRerun)
    {
        var schema = "lockorder_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(direct, schema);
        try
        {
            // The cancelled holder of key a (the lower id), its hold over; the failed job that released a (the higher id).
            var (holder, retried) = Ids;
            var (admin, driver) = await KeyHolderAndReleasedAsync(direct, schema, releasedFirst: true);
            await using var disposeDriver = driver;

            var (_, retryError, deleteError) = await RaceAsync(direct, schema, holder, retried,
                async () => cleanupRerun
                    ? (int)await driver.CleanupCountingAsync(new CleanupOptions { FailedJobs = CleanupAction.Rerun }, CancellationToken.None)
                    : await admin.RetryAsync(JobSelection.Ids(new JobId(retried))),
                statement: "retry", other: "the operator's delete of the job and its holder");

            Assert.True(deleteError is null, $"The operator's delete failed: {deleteError?.Message}");
            Assert.True(retryError is null, $"The {(cleanupRerun ? "cleanup rerun" : "retry")} threw {retryError?.GetType().Name}: {retryError?.Message}");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        }
    }
}
