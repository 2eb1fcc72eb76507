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
            var (low, high) = (new Guid("00000000-0000-7000-8000-000000000001"), new Guid("00000000-0000-7000-8000-000000000002"));
            foreach (var id in new[] { high, low })
            {
                await direct.ExecAsync($"""
                    INSERT INTO "{schema}".jobs (id, queue_name, name, payload, state, priority, run_at)
                    VALUES ('{id}', 'q', 'job', '{"{}"}', 0, 2, now() + interval '1 hour')
                    """);
            }

            await direct.ExecAsync($"ANALYZE \"{schema}\".jobs");
            var admin = PostgresJobAdmin.Create(direct, new PostgresJobDriverOptions { Schema = schema });
            var selection = JobSelection.Ids(new JobId(low), new JobId(high));

            // A third transaction holds the larger id's row: the action waits there before it locked anything else.
            await using var holderConnection = await direct.OpenConnectionAsync();
            await using var holder = await holderConnection.BeginTransactionAsync();
            await LockAsync(holderConnection, holder, schema, [high]);
            var bulk = action == "set-priority" ? admin.SetPriorityAsync(selection, JobPriority.Highest) : admin.RunNowAsync(selection);
            await TestExtensions.EventuallyAsync(async () => bulk.IsCompleted || await direct.ScalarAsync(Waiting(schema)) >= 1,
                what: "the bulk action waits for the held row");

            // Another operator's bulk cancel of both jobs locks their rows in id order.
            await using var otherConnection = await direct.OpenConnectionAsync();
            await using var other = await otherConnection.BeginTransactionAsync();
            var cancel = LockAsync(otherConnection, other, schema, [low, high]);
            await TestExtensions.EventuallyAsync(async () => bulk.IsCompleted || cancel.IsCompleted || await direct.ScalarAsync(Waiting(schema)) >= 2,
                what: "the other operator's cancel waits too");
            await holder.CommitAsync();

            // Whichever goes first, neither is aborted: the other waits for it.
            var bulkError = await Record.ExceptionAsync(() => bulk.WaitAsync(TimeSpan.FromMinutes(1)));
            if (bulkError is null)
            {
                var lockError = await Record.ExceptionAsync(() => cancel.WaitAsync(TimeSpan.FromMinutes(1)));
                Assert.True(lockError is null, $"The other operator's cancel failed: {lockError?.Message}");
                await other.CommitAsync();
            }
            else
            {
                await other.RollbackAsync();
            }

            Assert.True(bulkError is null, $"The bulk {action} threw {bulkError?.GetType().Name}: {bulkError?.Message}");
            Assert.Equal(2, await bulk);
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        }
    }
}
