using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>jobs migrate</c> whose DDL gives up on a table lock after the migrations' lock timeout (10 s): the operator is told
/// which session holds a lock on the job tables and what to do, not only PostgreSQL's "canceling statement due to lock timeout".
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MigrateLockTimeoutTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Jobs_migrate_that_cannot_get_its_table_lock_names_the_session_that_holds_it()
    {
        await using var db = new CliSchema(fixture);
        await db.MigrateAsync();
        // Back to the level before 0018_operator_cancels (which adds one column to jobs), with a job in every state.
        await db.ExecuteAsync($"""
            ALTER TABLE "{db.Name}".jobs DROP COLUMN operator_cancelled_at;
            DELETE FROM "{db.Name}".schema_migrations WHERE name = '0018_operator_cancels';
            INSERT INTO "{db.Name}".jobs (id, queue_name, name, payload, state) SELECT gen_random_uuid(), 'q', 'n', jsonb_build_object(), s FROM generate_series(0, 6) s;
            """);

        // A report left in its transaction: it holds ACCESS SHARE on jobs, which the migration's ALTER TABLE waits for.
        await using var reports = fixture.CreateDataSource(b => b.ApplicationName = "nightly-report");
        await using var report = await reports.OpenConnectionAsync();
        await using var transaction = await report.BeginTransactionAsync();
        await using (var read = new NpgsqlCommand($"SELECT count(*) FROM \"{db.Name}\".jobs", report, transaction))
        {
            await read.ExecuteScalarAsync();
        }

        var blocked = await db.RunAsync(1, ["migrate"]);

        var pid = report.ProcessID;
        Assert.True(blocked.ExitCode == 75
            && blocked.Error.Contains("0018_operator_cancels", StringComparison.Ordinal)
            && blocked.Error.Contains($"pid {pid} (application 'nightly-report', idle in transaction", StringComparison.Ordinal)
            && blocked.Error.Contains("AccessShareLock on jobs", StringComparison.Ordinal)
            && blocked.Error.Contains("pg_terminate_backend", StringComparison.Ordinal),
            $"jobs migrate, blocked by pid {pid} ('nightly-report'): {blocked}");
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM \"{db.Name}\".schema_migrations WHERE name = '0018_operator_cancels'"));

        await transaction.CommitAsync();
        var again = await db.RunAsync(1, ["migrate"]);
        Assert.True(again.ExitCode == 0 && again.Out.Contains("applied: 0018_operator_cancels", StringComparison.Ordinal), again.ToString());
    }
}
