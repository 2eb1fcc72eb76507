using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class MigrationTests(PostgresFixture fixture)
{
    private static string NewSchema() => "mig_" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Many_concurrent_migrators_apply_migrations_once()
    {
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => PostgresJobMigrations.ApplyAsync(dataSource, schema))));
        var all = PostgresJobMigrations.GetMigrations(schema).Select(m => m.Name).ToArray();
        Assert.Equal(all, results.SelectMany(r => r).Order(StringComparer.Ordinal));
        Assert.Equal(all.Length, await dataSource.ScalarAsync($"SELECT count(*) FROM {schema}.schema_migrations"));
        Assert.Empty(await PostgresJobMigrations.GetPendingAsync(dataSource, schema));

        // Eight drivers starting at once (the migration gate of each) also succeed.
        var drivers = Enumerable.Range(0, 8).Select(_ => new PostgresJobDriver(dataSource, new PostgresJobDriverOptions { Schema = NewSchemaShared(schema) })).ToArray();
        await Task.WhenAll(drivers.Select(d => d.WaitUntilReadyAsync(default))).WaitAsync(TimeSpan.FromSeconds(60));
        foreach (var d in drivers)
        {
            await d.DisposeAsync();
        }
    }

    private static string NewSchemaShared(string schema) => schema + "_b";

    [Fact]
    public async Task A_fresh_schema_is_installed_in_one_transaction()
    {
        // One commit for every migration (and the migrations table): a fresh worker's first start waits for one WAL flush,
        // not one per migration. Rows written by one transaction share its xmin.
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource();
        var applied = await PostgresJobMigrations.ApplyAsync(dataSource, schema);
        Assert.Equal(PostgresJobMigrations.GetMigrations(schema).Count, applied.Count);
        Assert.Equal(1L, await dataSource.ScalarAsync($"SELECT count(DISTINCT xmin::text) FROM {schema}.schema_migrations"));
        Assert.Empty(await PostgresJobMigrations.ApplyAsync(dataSource, schema));
    }

    [Fact]
    public async Task Upgrading_a_schema_with_jobs_reshapes_the_admin_list_index_under_its_name()
    {
        // A schema migrated by the code before 0011 (processing rows in jobs_admin_list_idx), with jobs in it.
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource();
        var all = PostgresJobMigrations.GetMigrations(schema);
        var before = all.TakeWhile(m => m.Name != AdminListIndexMigration.Name).ToArray();
        await PostgresJobMigrations.ApplyAsync(dataSource, schema, before, PostgresJobMigrations.DefaultLockTimeout, default);
        await dataSource.ExecAsync($"""
            INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, worker_id, lease_token, lease_expires_at)
            SELECT gen_random_uuid(), 'q', 'n', jsonb_build_object(), s, 1, 'w', gen_random_uuid(), now() + interval '1 minute'
            FROM generate_series(0, 6) s
            """);

        Assert.Equal(all.Skip(before.Length).Select(m => m.Name), await PostgresJobMigrations.ApplyAsync(dataSource, schema));
        Assert.Equal(1L, await dataSource.ScalarAsync($"""
            SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = '{schema}.jobs'::regclass AND c.relname LIKE 'jobs_admin_list_idx%' AND i.indisvalid
              AND pg_get_expr(i.indpred, i.indrelid) = '(state <> ALL (ARRAY[0, 1, 2]))'
            """));
        Assert.Equal(7L, await dataSource.ScalarAsync($"SELECT count(*) FROM {schema}.jobs"));
    }

    [Fact]
    public async Task Dry_run_fails_with_the_pending_migrations_and_everything_waiting_on_the_gate_fails_too()
    {
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource();
        await using var driver = new PostgresJobDriver(dataSource, new PostgresJobDriverOptions { Schema = schema, DryRun = true });
        var ex = await Assert.ThrowsAsync<JobQueueUnavailableException>(() => driver.WaitUntilReadyAsync(default).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("0001_create_jobs", ex.Message, StringComparison.Ordinal);
        Assert.Contains("0002_create_schedule_fires", ex.Message, StringComparison.Ordinal);
        var inner = Assert.IsType<PostgresMigrationException>(ex.InnerException);
        Assert.Equal(PostgresJobMigrations.GetMigrations(schema).Select(m => m.Name), inner.PendingMigrations);
        await Assert.ThrowsAsync<JobQueueUnavailableException>(() => driver.PushAsync([new Drivers.JobPushRecord
        {
            Id = JobId.New(), Name = "x", Payload = "{}"u8.ToArray(),
        }], null, default));
        await Assert.ThrowsAsync<JobQueueUnavailableException>(() => driver.CleanupAsync(new CleanupOptions(), default));
        // Nothing was created.
        Assert.Equal(0L, await dataSource.ScalarAsync($"SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'"));
    }

    [Fact]
    public async Task Hosted_migration_service_applies_or_fails_host_startup_in_dry_run()
    {
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource();

        var dry = BuildHost(dataSource, schema, dryRun: true);
        var ex = await Assert.ThrowsAsync<JobQueueUnavailableException>(() => dry.StartAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("0001_create_jobs", ex.Message, StringComparison.Ordinal);
        // A worker in that host fails with the same error instead of hanging.
        var worker = dry.Services.GetRequiredService<JobWorker>();
        await worker.StartAsync(default);
        await Assert.ThrowsAsync<JobQueueUnavailableException>(() => worker.Completion.WaitAsync(TimeSpan.FromSeconds(30)));
        dry.Dispose();

        using var real = BuildHost(dataSource, schema, dryRun: false);
        await real.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Empty(await PostgresJobMigrations.GetPendingAsync(dataSource, schema));
        var queue = real.Services.GetRequiredService<JobQueue>();
        await queue.PushAsync(new ValueJob(1), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        await real.StopAsync();

        // Once applied, a dry run passes.
        using var dryAgain = BuildHost(dataSource, schema, dryRun: true);
        await dryAgain.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, (await dryAgain.Services.GetRequiredService<JobQueue>().GetCountsAsync()).Pending);
        await dryAgain.StopAsync();
    }

    private static IHost BuildHost(Npgsql.NpgsqlDataSource dataSource, string schema, bool dryRun)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = schema;
                o.DryRun = dryRun;
            })
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers());
        return builder.Build();
    }

    [Fact]
    public async Task Unknown_applied_migrations_give_a_clear_error()
    {
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(dataSource, schema);
        var future = PostgresJobMigrations.GetMigrations(schema).Count + 1;
        await dataSource.ExecAsync($"INSERT INTO {schema}.schema_migrations (version, name) VALUES ({future}, '9999_from_the_future')");
        var ex = await Assert.ThrowsAsync<PostgresSchemaIncompatibleException>(() => PostgresJobMigrations.ApplyAsync(dataSource, schema));
        Assert.Contains($"{future}:9999_from_the_future", ex.Message, StringComparison.Ordinal);

        await dataSource.ExecAsync($"DELETE FROM {schema}.schema_migrations WHERE version = {future}; UPDATE {schema}.schema_migrations SET name = 'renamed' WHERE version = 1");
        await using var driver = new PostgresJobDriver(dataSource, new PostgresJobDriverOptions { Schema = schema });
        var gate = await Assert.ThrowsAsync<JobQueueUnavailableException>(() => driver.WaitUntilReadyAsync(default).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("1:renamed", gate.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_incompatible_schema_error_names_the_newest_migrations_and_the_one_the_code_must_know()
    {
        // A newer version added two migrations: the first declares this version's code compatible, the second needs code
        // that knows the first. The error names migrations an operator can find in schema_migrations, not a count.
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(dataSource, schema);
        var known = PostgresJobMigrations.GetMigrations(schema);
        var (additive, breaking) = (known.Count + 1, known.Count + 2);
        await dataSource.ExecAsync($"INSERT INTO {schema}.schema_migrations (version, name, compatible_from) VALUES " +
            $"({additive}, '9998_additive', {known.Count}), ({breaking}, '9999_breaking', {additive})");

        var ex = await Assert.ThrowsAsync<PostgresSchemaIncompatibleException>(() => PostgresJobMigrations.ApplyAsync(dataSource, schema));

        Assert.Equal(
            $"The job queue schema '{schema}' was migrated by a newer Jobs.Sdk.Postgres (newest migration {breaking}:9999_breaking) that this version " +
            $"(newest migration {known[^1].Version}:{known[^1].Name}) cannot run against: {breaking}:9999_breaking needs code that knows " +
            $"{additive}:9998_additive or later. Deploy the newer version (a rollback past this migration is not supported); workers of this version stay stopped.",
            ex.Message);
        Assert.Equal((known[^1].Version, breaking), (ex.CodeSchemaVersion, ex.DatabaseSchemaVersion));
    }

    [Fact]
    public async Task Dba_script_is_idempotent_and_leaves_nothing_pending()
    {
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource();
        var script = PostgresJobMigrations.GetScript(schema);
        await dataSource.ExecAsync(script);
        await dataSource.ExecAsync(script);
        Assert.Empty(await PostgresJobMigrations.GetPendingAsync(dataSource, schema));
        Assert.Empty(await PostgresJobMigrations.ApplyAsync(dataSource, schema));

        // MigrateOnStartup = false: the driver only verifies, and the script made it usable.
        await using var driver = new PostgresJobDriver(dataSource, new PostgresJobDriverOptions { Schema = schema, MigrateOnStartup = false });
        await driver.WaitUntilReadyAsync(default).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Without_migrate_on_startup_a_missing_schema_fails_clearly()
    {
        await using var dataSource = fixture.CreateDataSource();
        var schema = NewSchema();
        await using var driver = new PostgresJobDriver(dataSource, new PostgresJobDriverOptions { Schema = schema, MigrateOnStartup = false });
        var ex = await Assert.ThrowsAsync<JobQueueUnavailableException>(() => driver.GetCountsAsync(default).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"needs {PostgresJobMigrations.GetMigrations(schema).Count} migration(s)", ex.Message, StringComparison.Ordinal);
    }
}
