using System.Data;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A <c>CREATE INDEX CONCURRENTLY</c> migration step waits for every transaction of its database older than its
/// snapshots: it waits for as long as they stay open (that wait blocks no reads or writes), instead of failing with 55P03
/// after the migrations' <c>lock_timeout</c>, and a cancel ends the wait. Each test runs in a database of its own, since
/// the build waits for every older transaction of its database (other tests' included).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ConcurrentIndexWaitTests(PostgresFixture fixture)
{
    private const string StepName = "9999_concurrent_index";

    [Fact]
    public async Task A_concurrent_index_step_waits_for_an_old_transaction_instead_of_failing_after_the_lock_timeout()
    {
        await using var database = await ScratchDatabase.CreateAsync(fixture, "cicwait");
        await using var dataSource = database.CreateDataSource();
        var (schema, migrations) = await MigratedUpToStepAsync(dataSource);
        await using var blocker = await OpenOldSnapshotAsync(dataSource);

        // A lock timeout far below the wait: the index build must not be bounded by it.
        var migrate = PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, TimeSpan.FromMilliseconds(200), default);
        await WaitUntilBlockedByAsync(database, migrate, blocker.Connection.ProcessID);

        await blocker.Transaction.CommitAsync();
        var applied = await migrate.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(StepName, Assert.Single(applied));
        Assert.Equal(1L, await IndexCountAsync(dataSource, schema, valid: true));
        Assert.Equal(0L, await IndexCountAsync(dataSource, schema, valid: false));
    }

    [Fact]
    public async Task A_cancel_ends_the_wait_for_an_old_transaction_and_the_next_run_builds_a_valid_index()
    {
        await using var database = await ScratchDatabase.CreateAsync(fixture, "cicwait");
        await using var dataSource = database.CreateDataSource();
        var (schema, migrations) = await MigratedUpToStepAsync(dataSource);
        await using var blocker = await OpenOldSnapshotAsync(dataSource);

        using var stop = new CancellationTokenSource();
        var migrate = PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, TimeSpan.FromMilliseconds(200), stop.Token);
        await WaitUntilBlockedByAsync(database, migrate, blocker.Connection.ProcessID);

        await stop.CancelAsync();
        // Promptly: the blocking transaction is still open, so only the cancel can end the wait.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => migrate.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1L, await IndexCountAsync(dataSource, schema, valid: false));
        Assert.Equal(0L, await dataSource.ScalarAsync($"SELECT count(*) FROM \"{schema}\".schema_migrations WHERE name = '{StepName}'"));

        await blocker.Transaction.CommitAsync();
        Assert.Equal(StepName, Assert.Single(
            await PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, TimeSpan.FromMilliseconds(200), default).WaitAsync(TimeSpan.FromSeconds(60))));
        Assert.Equal(1L, await IndexCountAsync(dataSource, schema, valid: true));
        Assert.Equal(0L, await IndexCountAsync(dataSource, schema, valid: false));
    }

    [Fact]
    public async Task The_waiting_log_event_names_the_session_the_index_build_waits_for()
    {
        await using var database = await ScratchDatabase.CreateAsync(fixture, "cicwait");
        await using var dataSource = database.CreateDataSource();
        var (schema, migrations) = await MigratedUpToStepAsync(dataSource);
        await using var blocker = await OpenOldSnapshotAsync(dataSource);
        var pid = blocker.Connection.ProcessID;
        using var log = new LevelLog();
        // The host's report (MigrationWaitReport.Logging), told every 100 ms instead of at 10 s then every 30 s.
        var report = MigrationWaitReport.Logging(log.CreateLogger("migrations")) with { First = TimeSpan.FromMilliseconds(100), Every = TimeSpan.FromMilliseconds(100) };

        var migrate = PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, TimeSpan.FromMilliseconds(200), report, default);
        await TestExtensions.EventuallyAsync(() => Task.FromResult(migrate.IsCompleted || log.Warnings.Any(w => w.Entry.Contains($"pid {pid} (", StringComparison.Ordinal))),
            60, "the waiting event names the blocking session");
        Assert.False(migrate.IsCompleted, migrate.Exception?.ToString());
        var entry = log.Warnings.First(w => w.Entry.Contains($"pid {pid} (", StringComparison.Ordinal)).Entry;
        Assert.Contains("[2005]", entry, StringComparison.Ordinal);
        Assert.Contains(StepName, entry, StringComparison.Ordinal);
        Assert.Contains("idle in transaction", entry, StringComparison.Ordinal);
        Assert.Contains("pg_terminate_backend", entry, StringComparison.Ordinal);

        await blocker.Transaction.CommitAsync();
        Assert.Equal(StepName, Assert.Single(await migrate.WaitAsync(TimeSpan.FromSeconds(60))));
        Assert.Empty(log.Errors);
    }

    [Fact]
    public async Task Processes_that_wait_for_the_migration_lock_do_not_deadlock_the_concurrent_index_build()
    {
        // A deploy: several processes start at once; one takes the migration lock, the others wait for it. The index build
        // waits for every transaction older than its snapshot, and a session waiting in pg_advisory_lock is one: the build
        // waited for the waiters, the waiters for the lock its session held, and PostgreSQL aborted one with 40P01.
        await using var database = await ScratchDatabase.CreateAsync(fixture, "cicwait");
        await using var dataSource = database.CreateDataSource();
        var (schema, migrations) = await MigratedUpToStepAsync(dataSource);
        await using var holder = await dataSource.OpenConnectionAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({PostgresJobMigrations.LockKey(schema)})", holder))
        {
            await take.ExecuteNonQueryAsync();
        }

        var first = PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, TimeSpan.FromMilliseconds(200), default);
        var second = PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, TimeSpan.FromMilliseconds(200), default);
        await TestExtensions.EventuallyAsync(async () => first.IsCompleted || second.IsCompleted || await dataSource.ScalarAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%advisory_lock($1)%'") == 2,
            60, "both processes wait for the migration lock");
        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({PostgresJobMigrations.LockKey(schema)})", holder))
        {
            await release.ExecuteNonQueryAsync();
        }

        var applied = await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal([StepName], applied.SelectMany(names => names));
        Assert.Equal(1L, await IndexCountAsync(dataSource, schema, valid: true));
    }

    /// <summary>A schema migrated up to (not including) a no-transaction step that builds one index concurrently.</summary>
    internal static async Task<(string Schema, List<PostgresMigration> Migrations)> MigratedUpToStepAsync(NpgsqlDataSource dataSource)
    {
        var schema = "cic_" + Guid.NewGuid().ToString("N")[..10];
        var migrations = PostgresJobMigrations.GetMigrations(schema).ToList();
        await PostgresJobMigrations.ApplyAsync(dataSource, schema);
        migrations.Add(MigrationMarkers.Build(migrations.Count + 1, StepName, $"""
            -- jobs:no-transaction
            CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_name_probe_idx ON "{schema}".jobs (name);
            """, [.. migrations.Select(m => (m.Name, m.Sql)), (StepName, "")]));
        return (schema, migrations);
    }

    /// <summary>Another session's transaction holding a snapshot (as an analytics query or an idle <c>psql</c> in a transaction would).</summary>
    internal static async Task<OpenTransaction> OpenOldSnapshotAsync(NpgsqlDataSource dataSource)
    {
        var connection = await dataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead);
        await using (var select = new NpgsqlCommand("SELECT 1", connection, transaction))
        {
            await select.ExecuteScalarAsync();
        }

        return new OpenTransaction(connection, transaction);
    }

    /// <summary>
    /// Polls the server until the index build has waited for <paramref name="blockerPid"/> for <paramref name="waited"/>
    /// (by default five times the 200 ms lock timeout the tests migrate with) (the server's own <c>pg_locks.waitstart</c>: no sleep, no clock of the test's); a
    /// migration that ended first is awaited (its failure is the test's).
    /// </summary>
    internal static async Task WaitUntilBlockedByAsync(ScratchDatabase database, Task migrate, int blockerPid, string waited = "1 second")
    {
        await using var observer = database.CreateDataSource();
        await TestExtensions.EventuallyAsync(async () => migrate.IsCompleted || await observer.ScalarAsync($"""
            SELECT count(*) FROM pg_stat_progress_create_index p JOIN pg_locks l ON l.pid = p.pid AND NOT l.granted
            WHERE {blockerPid} = ANY (pg_blocking_pids(p.pid)) AND clock_timestamp() - l.waitstart > interval '{waited}'
            """) > 0, 60, "the index build waits for the old transaction past the lock timeout");
        if (migrate.IsCompleted)
        {
            await migrate;
            Assert.Fail("The migration ended while the old transaction was still open.");
        }
    }

    internal static Task<long> IndexCountAsync(NpgsqlDataSource dataSource, string schema, bool valid) => dataSource.ScalarAsync($"""
        SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = 'jobs_name_probe_idx' AND n.nspname = '{schema}' AND i.indisvalid = {(valid ? "true" : "false")}
        """);

    internal sealed record OpenTransaction(NpgsqlConnection Connection, NpgsqlTransaction Transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Transaction.DisposeAsync();
            await Connection.DisposeAsync();
        }
    }
}
