using static Jobs.Sdk.Postgres.Tests.JobRowLocks;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An operator's retry (or a cleanup rerun) of a finished unique job that released its key decides from its snapshot that
/// the key's holder is finished and its hold over, then locks that holder and releases its key (<see cref="UniqueRetrySql"/>).
/// When the holder itself was put back in between (an operator retried it: it waits again, holding its key), the lock
/// waited for that and the release took the key from it anyway: two jobs of the key waiting (both run), one of them
/// without its key. The retry must look at the holder again once it holds its lock. Deterministic: a test transaction
/// holds the holder's row (the retry locks it and the retried job together, in id order: the holder first), so the retry
/// has its snapshot and waits there while that transaction puts the holder back as an operator's retry does, and commits.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniqueRetryHolderRaceTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_retry_of_a_job_whose_expired_key_holder_is_put_back_meanwhile_leaves_the_key_with_the_holder(bool cleanupRerun)
    {
        var schema = "holderrace_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(direct, schema);
        try
        {
            // A cancelled holder of key a, its hold over; a failed job that released a, which a retry would give back to it.
            var (holder, retried) = Ids;
            var (admin, driver) = await KeyHolderAndReleasedAsync(direct, schema, releasedFirst: false);
            await using var disposeDriver = driver;

            // The retry of the failed job takes its snapshot (the holder finished, its hold over) and waits for the held row.
            await using var lockConnection = await direct.OpenConnectionAsync();
            await using var locked = await lockConnection.BeginTransactionAsync();
            await LockAsync(lockConnection, locked, schema, [holder]);
            var retry = cleanupRerun
                ? Task.Run(async () => (int)await driver.CleanupCountingAsync(new CleanupOptions { FailedJobs = CleanupAction.Rerun }, CancellationToken.None))
                : admin.RetryAsync(JobSelection.Ids(new JobId(retried)));
            await TestExtensions.EventuallyAsync(async () => retry.IsCompleted || await direct.ScalarAsync(Waiting(schema)) >= 1,
                what: "the retry waits for the held row");

            // Meanwhile the holder is put back, as an operator's retry puts it back (that retry would wait for the row this
            // transaction holds, queued behind the retry under test): it waits again, holding its key.
            await using (var putBack = new Npgsql.NpgsqlCommand($"""
                UPDATE "{schema}".jobs SET state = 0, run_at = now(), finished_at = NULL, updated_at = now() WHERE id = '{holder}' AND state = 5
                """, lockConnection, locked))
            {
                Assert.Equal(1, await putBack.ExecuteNonQueryAsync());
            }

            await locked.CommitAsync();
            var thrown = await Record.ExceptionAsync(() => retry.WaitAsync(TimeSpan.FromMinutes(1)));
            Assert.True(thrown is null, $"The retry threw {thrown?.GetType().Name}: {thrown?.Message}");

            // One job of the key in line, the holder, with its key; the failed job left as it was (a push stores nothing).
            var inLine = await direct.ScalarAsync($"""SELECT count(*) FROM "{schema}".jobs WHERE state IN (0, 1, 2, 6)""");
            var holderKey = await direct.ScalarAsync($"""SELECT count(*) FROM "{schema}".jobs WHERE id = '{holder}' AND unique_key = 'a'""");
            Assert.True(inLine == 1 && holderKey == 1,
                $"{inLine} jobs of key a in line (1 expected); the holder {(holderKey == 1 ? "kept" : "lost")} its key");
            Assert.Equal(1, await direct.ScalarAsync($"""
                SELECT count(*) FROM "{schema}".jobs WHERE id = '{retried}' AND state = 4 AND unique_key IS NULL AND released_unique_key = 'a'
                """));
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        }
    }
}
