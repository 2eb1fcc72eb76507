using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A migration runs for as long as its work takes: the data source's <c>Command Timeout</c> (Npgsql's, 30 s unless the
/// connection string says otherwise) bounds the application's statements, not the migrations' DDL, which the lock timeout
/// bounds where it waits for a table lock and nothing should bound where it works (an index over a large table) or
/// waits, by design, for old transactions (<c>CREATE INDEX CONCURRENTLY</c>).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MigrationCommandTimeoutTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_migration_that_runs_longer_than_the_command_timeout_is_applied()
    {
        var schema = "mct_" + Guid.NewGuid().ToString("N")[..10];
        await using var admin = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(admin, schema);
        // A step whose work takes 3 s (an index over a large table would), on a data source whose statements time out after 1 s.
        var migrations = PostgresJobMigrations.GetMigrations(schema).ToList();
        migrations.Add(new PostgresMigration(migrations.Count + 1, "9999_slow", "SELECT pg_sleep(3);"));
        await using var dataSource = fixture.CreateDataSource(b => b.CommandTimeout = 1);

        IReadOnlyList<string>? applied = null;
        var failure = await Record.ExceptionAsync(async () =>
            applied = await PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, PostgresJobMigrations.DefaultLockTimeout, default).WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.True(failure is null, $"A migration step of 3 s on a data source of Command Timeout 1 s failed: {failure?.GetType().Name}: {failure?.Message}");
        Assert.Equal("9999_slow", Assert.Single(applied!));
        Assert.Empty(await PostgresJobMigrations.ApplyAsync(admin, schema, migrations, PostgresJobMigrations.DefaultLockTimeout, default));
        await admin.ExecAsync($"DROP SCHEMA \"{schema}\" CASCADE");
    }

    [Fact]
    public async Task A_concurrent_index_step_waits_for_an_old_transaction_past_the_command_timeout()
    {
        // The README's promise: the build waits for old transactions as long as they stay open, saying which (event 2005).
        await using var database = await ScratchDatabase.CreateAsync(fixture, "cicwait");
        await using var admin = database.CreateDataSource();
        var (schema, migrations) = await ConcurrentIndexWaitTests.MigratedUpToStepAsync(admin);
        await using var blocker = await ConcurrentIndexWaitTests.OpenOldSnapshotAsync(admin);
        await using var dataSource = database.CreateDataSource(b => b.CommandTimeout = 1);

        var migrate = PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, TimeSpan.FromMilliseconds(200), default);
        // Three times the command timeout, on the server's clock (pg_locks.waitstart); a migration that ended first fails the test with its error.
        await ConcurrentIndexWaitTests.WaitUntilBlockedByAsync(database, migrate, blocker.Connection.ProcessID, "3 seconds");

        await blocker.Transaction.CommitAsync();
        Assert.Equal("9999_concurrent_index", Assert.Single(await migrate.WaitAsync(TimeSpan.FromSeconds(60))));
        Assert.Equal(1L, await ConcurrentIndexWaitTests.IndexCountAsync(admin, schema, valid: true));
        Assert.Equal(0L, await ConcurrentIndexWaitTests.IndexCountAsync(admin, schema, valid: false));
    }
}
