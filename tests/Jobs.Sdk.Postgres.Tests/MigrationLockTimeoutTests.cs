using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A migration's DDL gives up on a table lock after the lock timeout (10 s) and the host tries again: what it logs must
/// say that a session holds a lock on the job tables, which one, and what to do; not that PostgreSQL is unreachable.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MigrationLockTimeoutTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_host_whose_migration_waits_for_a_table_lock_logs_the_session_that_holds_it()
    {
        // A schema one migration behind (0018 adds a column to jobs), with jobs in every state.
        var schema = "mlt_" + Guid.NewGuid().ToString("N")[..10];
        await using var dataSource = fixture.CreateDataSource();
        var all = PostgresJobMigrations.GetMigrations(schema);
        await PostgresJobMigrations.ApplyAsync(dataSource, schema, all.Take(all.Count - 1).ToArray(), PostgresJobMigrations.DefaultLockTimeout, default);
        await dataSource.ExecAsync($"""
            INSERT INTO "{schema}".jobs (id, queue_name, name, payload, state, attempts, worker_id, lease_token, lease_expires_at)
            SELECT gen_random_uuid(), 'q', 'n', jsonb_build_object(), s, 1, 'w', gen_random_uuid(), now() + interval '1 minute'
            FROM generate_series(0, 6) s
            """);

        // A report left in its transaction: it holds ACCESS SHARE on jobs, which the migration's ALTER TABLE waits for.
        await using var reports = fixture.CreateDataSource(b => b.ApplicationName = "nightly-report");
        await using var report = await reports.OpenConnectionAsync();
        await using var transaction = await report.BeginTransactionAsync();
        await using (var read = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM \"{schema}\".jobs", report, transaction))
        {
            await read.ExecuteScalarAsync();
        }

        using var log = new LevelLog();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(log);
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o => o.Schema = schema)
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers());
        using var host = builder.Build();
        var start = host.StartAsync();

        var pid = report.ProcessID;
        var named = await Record.ExceptionAsync(() => TestExtensions.EventuallyAsync(() => Task.FromResult(
            start.IsCompleted || log.Warnings.Any(w => w.Entry.Contains($"pid {pid} (", StringComparison.Ordinal))), 45, "a warning names the session"));
        Assert.True(named is null && !start.IsCompleted,
            $"A host whose migration waited for the lock on jobs that a report's transaction holds (pid {pid}, 'nightly-report') logged no warning naming it " +
            $"within 45 s (started: {start.IsCompleted}); warnings: {string.Join(" | ", log.Warnings.Select(w => w.Entry).Distinct())}");
        var entry = log.Warnings.First(w => w.Entry.Contains($"pid {pid} (", StringComparison.Ordinal)).Entry;
        Assert.Contains("0018_operator_cancels", entry, StringComparison.Ordinal);
        Assert.Contains("application 'nightly-report', idle in transaction", entry, StringComparison.Ordinal);
        Assert.Contains("AccessShareLock on jobs", entry, StringComparison.Ordinal);
        Assert.Contains("pg_terminate_backend", entry, StringComparison.Ordinal);
        Assert.DoesNotContain("unreachable", entry, StringComparison.Ordinal);

        // Once the report ends, the host's next try applies the migration and the host starts.
        await transaction.CommitAsync();
        await start.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Empty(await PostgresJobMigrations.GetPendingAsync(dataSource, schema));
        Assert.Equal(7L, await dataSource.ScalarAsync($"SELECT count(*) FROM \"{schema}\".jobs"));
        Assert.Empty(log.Errors);
        await host.StopAsync();
        await dataSource.ExecAsync($"DROP SCHEMA \"{schema}\" CASCADE");
    }
}
