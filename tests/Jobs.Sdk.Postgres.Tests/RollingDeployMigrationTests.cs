using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Issue 13, finding 7: migrations that rolling deploys and least-privilege roles can live with.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RollingDeployMigrationTests(PostgresFixture fixture)
{
    private static string NewSchema() => "dep_" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_dml_only_role_starts_a_host_with_migrate_on_startup_when_the_schema_is_current()
    {
        var schema = NewSchema();
        var role = "dml_" + Guid.NewGuid().ToString("N")[..8];
        await using var admin = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(admin, schema);
        await admin.ExecAsync($"""
            CREATE ROLE {role} LOGIN PASSWORD 'dml-pass';
            REVOKE CREATE ON SCHEMA public FROM PUBLIC;
            GRANT USAGE ON SCHEMA {schema} TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role};
            """);
        await using var limited = fixture.CreateDataSource(b => { b.Username = role; b.Password = "dml-pass"; });

        var ran = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(limited, o => { o.Schema = schema; o.MigrateOnStartup = true; })
            .AddJob<ValueJob>((job, _, _) => { ran.TrySetResult(job.Value); return Task.CompletedTask; })
            .AddWorkers());
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await host.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(42));
        Assert.Equal(42, await ran.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        await host.StopAsync();
    }

    [Fact]
    public async Task A_role_that_owns_its_schema_but_may_not_create_schemas_installs_and_upgrades_it()
    {
        // The usual least-privilege setup: the DBA creates the schema for the application's role, which may not create
        // schemas in the database (PostgreSQL grants CREATE on a database to its owner only).
        var schema = NewSchema();
        var role = "own_" + Guid.NewGuid().ToString("N")[..8];
        await using var admin = fixture.CreateDataSource();
        await admin.ExecAsync($"""
            CREATE ROLE {role} LOGIN PASSWORD 'own-pass';
            CREATE SCHEMA {schema} AUTHORIZATION {role};
            """);
        await using var owner = fixture.CreateDataSource(b => { b.Username = role; b.Password = "own-pass"; });
        var all = PostgresJobMigrations.GetMigrations(schema);
        var before = all.Take(all.Count - 2).ToArray();

        Assert.Equal(before.Select(m => m.Name),
            await PostgresJobMigrations.ApplyAsync(owner, schema, before, PostgresJobMigrations.DefaultLockTimeout, default));
        Assert.Equal(all.Skip(before.Length).Select(m => m.Name), await PostgresJobMigrations.ApplyAsync(owner, schema));
        Assert.Empty(await PostgresJobMigrations.GetPendingAsync(admin, schema));
    }

    [Fact]
    public async Task A_dml_only_role_that_found_the_schema_pending_starts_once_another_process_migrated_it()
    {
        // A deploy: a DML-only process starts while the owner's process (or `jobs migrate`) is applying the new version's
        // migrations. It finds one pending and waits for the migration lock; once it has the lock, nothing is pending any more.
        var schema = NewSchema();
        var role = "dml_" + Guid.NewGuid().ToString("N")[..8];
        await using var admin = fixture.CreateDataSource();
        var all = PostgresJobMigrations.GetMigrations(schema);
        await PostgresJobMigrations.ApplyAsync(admin, schema, all.Take(all.Count - 1).ToArray(), PostgresJobMigrations.DefaultLockTimeout, default);
        await admin.ExecAsync($"""
            CREATE ROLE {role} LOGIN PASSWORD 'dml-pass';
            GRANT USAGE ON SCHEMA {schema} TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role};
            """);
        await using var limited = fixture.CreateDataSource(b => { b.Username = role; b.Password = "dml-pass"; });

        await using var migrator = await admin.OpenConnectionAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({PostgresJobMigrations.LockKey(schema)})", migrator))
        {
            await take.ExecuteNonQueryAsync();
        }

        var starting = PostgresJobMigrations.ApplyAsync(limited, schema);
        await TestExtensions.EventuallyAsync(async () => starting.IsCompleted || await admin.ScalarAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE usename = '{role}' AND query LIKE '%pg_try_advisory_lock%'") > 0,
            what: "the DML-only process waiting for the migration lock");
        Assert.False(starting.IsCompleted, "the DML-only process did not wait for the migration lock");
        var last = all[^1];
        await using (var finish = new NpgsqlCommand(last.Sql + $"""
            ;
            INSERT INTO {schema}.schema_migrations (version, name, compatible_from) VALUES ({last.Version}, '{last.Name}', {last.CompatibleFrom});
            """, migrator))
        {
            await finish.ExecuteNonQueryAsync();
        }

        // Unlocked after the migration committed, as the driver does: unlocked inside the same implicit transaction,
        // the waiting process could read the schema before the commit, find the last migration pending and try its DDL.
        await using (var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({PostgresJobMigrations.LockKey(schema)})", migrator))
        {
            await unlock.ExecuteNonQueryAsync();
        }

        Assert.Empty(await starting.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_role_statement_timeout_does_not_cancel_the_wait_for_another_process_migration()
    {
        // Operators often give the application's role a statement_timeout (ALTER ROLE app SET statement_timeout = '30s').
        // A process that starts while another applies a long migration waits for the migration lock longer than that.
        var schema = NewSchema();
        await using var admin = fixture.CreateDataSource();
        await using var timed = fixture.CreateDataSource(b => b.Options = "-c statement_timeout=300");
        await using var migrator = await admin.OpenConnectionAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({PostgresJobMigrations.LockKey(schema)})", migrator))
        {
            await take.ExecuteNonQueryAsync();
        }

        var starting = PostgresJobMigrations.ApplyAsync(timed, schema);
        // On the database clock: the process (its connection is the data source's first) has tried the lock for more than
        // twice its statement_timeout.
        await TestExtensions.EventuallyAsync(async () => starting.IsCompleted || await admin.ScalarAsync(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_try_advisory_lock%' " +
            "AND clock_timestamp() - backend_start > interval '600 milliseconds'") > 0,
            what: "the starting process waiting for the migration lock past its statement_timeout");
        var waited = !starting.IsCompleted;
        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({PostgresJobMigrations.LockKey(schema)})", migrator))
        {
            await release.ExecuteNonQueryAsync();
        }

        Exception? failed = null;
        try
        {
            await starting.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (Exception ex) when (ex is not TimeoutException)
        {
            failed = ex;
        }

        Assert.True(waited && failed is null, $"waited past the statement_timeout: {waited}; failed: {failed?.GetType().Name} {failed?.Message}");
        Assert.Empty(await PostgresJobMigrations.GetPendingAsync(admin, schema));
    }

    [Fact]
    public async Task Older_code_runs_against_a_newer_compatible_schema()
    {
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(dataSource, schema);
        var known = PostgresJobMigrations.GetMigrations(schema).Count;
        // A newer version added a migration that declares code of this schema version compatible.
        await dataSource.ExecAsync($"INSERT INTO {schema}.schema_migrations (version, name, compatible_from) VALUES ({known + 1}, '9999_newer_additive', {known})");

        Assert.Empty(await PostgresJobMigrations.ApplyAsync(dataSource, schema));
        Assert.Empty(await PostgresJobMigrations.GetPendingAsync(dataSource, schema));
        await using var driver = new PostgresJobDriver(dataSource, new PostgresJobDriverOptions { Schema = schema });
        await driver.WaitUntilReadyAsync(default).WaitAsync(TimeSpan.FromSeconds(30));
        await driver.PushAsync([new Drivers.JobPushRecord { Id = JobId.New(), Name = "x", Payload = "{}"u8.ToArray() }], null, default);
    }

    [Fact]
    public async Task Older_code_refuses_an_incompatible_newer_schema_without_failing_the_host()
    {
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(dataSource, schema);
        var known = PostgresJobMigrations.GetMigrations(schema).Count;
        await dataSource.ExecAsync($"INSERT INTO {schema}.schema_migrations (version, name, compatible_from) VALUES ({known + 1}, '9999_breaking', {known + 1})");

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o => o.Schema = schema)
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers());
        using var host = builder.Build();
        // The host starts (no crash loop); the queue says clearly why it cannot be used, and the workers stay stopped.
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var driver = host.Services.GetRequiredService<PostgresJobDriver>();
        var ex = await Assert.ThrowsAsync<JobQueueUnavailableException>(() => driver.WaitUntilReadyAsync(default).WaitAsync(TimeSpan.FromSeconds(30)));
        var inner = Assert.IsType<PostgresSchemaIncompatibleException>(ex.InnerException);
        Assert.Equal((known, known + 1), (inner.CodeSchemaVersion, inner.DatabaseSchemaVersion));
        Assert.Contains("9999_breaking", ex.Message, StringComparison.Ordinal);
        var worker = host.Services.GetRequiredService<JobWorker>();
        await Assert.ThrowsAnyAsync<Exception>(() => worker.Completion.WaitAsync(TimeSpan.FromSeconds(30)));

        // SIGTERM to this host (app.Run() ends in StopAsync) must end it cleanly: a throw here is a crash on every stop.
        var stopped = await Record.ExceptionAsync(async () =>
        {
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        });
        Assert.True(stopped is null, $"Stopping the host whose workers could not start threw: {stopped}");
    }

    /// <summary>
    /// The same host, with a worker, a scheduler and the presence service, started, stopped and disposed: the error was
    /// logged (event 1002) and is the worker's <c>Completion</c>; no task of theirs may fault unobserved (an app that reports
    /// <see cref="TaskScheduler.UnobservedTaskException"/>, as error trackers do, would report it again at a random later GC).
    /// </summary>
    [Fact]
    public async Task A_host_whose_workers_could_not_start_leaves_no_unobserved_task_exception()
    {
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(dataSource, schema);
        var known = PostgresJobMigrations.GetMigrations(schema).Count;
        await dataSource.ExecAsync($"INSERT INTO {schema}.schema_migrations (version, name, compatible_from) VALUES ({known + 1}, '9999_breaking', {known + 1})");
        var unobserved = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            if (e.Exception.ToString().Contains(schema, StringComparison.Ordinal))
            {
                unobserved.Enqueue(e.Exception);
            }
        }

        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            await RunHostAsync(dataSource, schema);
            for (var i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            Assert.True(unobserved.IsEmpty, $"{unobserved.Count} task(s) faulted unobserved: {string.Join(" | ", unobserved.Select(e => e.InnerException?.GetType().Name + ": " + e.InnerException?.Message))}");
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }
    }

    /// <summary>Starts, stops and disposes a host on the incompatible schema; nothing of it stays reachable after it returns.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static async Task RunHostAsync(NpgsqlDataSource dataSource, string schema)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o => o.Schema = schema)
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddSchedule(s => s.Add(new ValueJob(1), Schedule.Hourly(), ScheduleAccuracy.All, key: "probe"))
            .AddWorkers());
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var worker = host.Services.GetRequiredService<JobWorker>();
        // Not awaited (that would observe it): an app need not look at Completion.
        await TestExtensions.EventuallyAsync(() => Task.FromResult(worker.Completion.IsCompleted), 30, "the worker gave up starting");
        await Record.ExceptionAsync(() => host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_migration_step_marked_no_transaction_runs_create_index_concurrently()
    {
        // A database of its own: CREATE INDEX CONCURRENTLY waits for every transaction of its database older than its
        // snapshot, and the migrations' lock_timeout bounds that wait; other tests' transactions that hold a lock for a
        // while (the CLI's interrupt tests, in parallel) made this step fail with 55P03 in the shared database.
        await using var database = await ScratchDatabase.CreateAsync(fixture, "cic");
        var schema = NewSchema();
        await using var dataSource = database.CreateDataSource();
        var migrations = PostgresJobMigrations.GetMigrations(schema).ToList();
        var step = MigrationMarkers.Build(migrations.Count + 1, "9999_concurrent_index", $"""
            -- jobs:no-transaction
            CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_name_probe_idx ON "{schema}".jobs (name);
            """, [.. migrations.Select(m => (m.Name, m.Sql)), ("9999_concurrent_index", "")]);
        Assert.False(step.RunsInTransaction);
        migrations.Add(step);

        var applied = await PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, PostgresJobMigrations.DefaultLockTimeout, default);
        Assert.Equal("9999_concurrent_index", applied[^1]);
        Assert.Equal(1, await dataSource.ScalarAsync(
            $"SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'jobs_name_probe_idx' AND n.nspname = '{schema}' AND i.indisvalid"));
        Assert.Empty(await PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, PostgresJobMigrations.DefaultLockTimeout, default));
    }

    [Fact]
    public async Task A_concurrent_index_build_that_failed_part_way_is_built_again_not_recorded_invalid()
    {
        // CREATE INDEX CONCURRENTLY commits the index (invalid) before it waits for the transactions writing the table; when
        // that wait ends in a failure (a cancel here; a crash alike), the invalid index stays, and IF NOT EXISTS on the
        // retry would skip it: the step recorded as applied, the index never used and still maintained by every write.
        // A database of its own: the build waits for every older transaction of its database, not only this test's.
        await using var database = await ScratchDatabase.CreateAsync(fixture, "cic");
        var schema = NewSchema();
        await using var dataSource = database.CreateDataSource();
        var migrations = PostgresJobMigrations.GetMigrations(schema).ToList();
        await PostgresJobMigrations.ApplyAsync(dataSource, schema);
        var step = MigrationMarkers.Build(migrations.Count + 1, "9999_concurrent_index", $"""
            -- jobs:no-transaction
            CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_name_probe_idx ON "{schema}".jobs (name);
            """, [.. migrations.Select(m => (m.Name, m.Sql)), ("9999_concurrent_index", "")]);
        migrations.Add(step);

        await using var writer = await dataSource.OpenConnectionAsync();
        await using var transaction = await writer.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            $"INSERT INTO \"{schema}\".jobs (id, queue_name, name, payload) VALUES (gen_random_uuid(), 'q', 'n', '{{}}')", writer, transaction))
        {
            await insert.ExecuteNonQueryAsync();
        }

        // The build waits for the writer however long it takes (no lock timeout): a cancel ends it.
        using var stop = new CancellationTokenSource();
        var migrate = PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, TimeSpan.FromMilliseconds(200), stop.Token);
        await TestExtensions.EventuallyAsync(async () => migrate.IsCompleted || await dataSource.ScalarAsync(
            $"SELECT count(*) FROM pg_stat_progress_create_index p WHERE {writer.ProcessID} = ANY (pg_blocking_pids(p.pid))") > 0, 60, "the build waits for the writer");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => migrate.WaitAsync(TimeSpan.FromSeconds(60)));
        await transaction.CommitAsync();

        Assert.Equal("9999_concurrent_index", Assert.Single(
            await PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, PostgresJobMigrations.DefaultLockTimeout, default)));
        Assert.Equal(0L, await dataSource.ScalarAsync($"""
            SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = 'jobs_name_probe_idx' AND n.nspname = '{schema}' AND NOT i.indisvalid
            """));
        Assert.Equal(1L, await dataSource.ScalarAsync($"""
            SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = 'jobs_name_probe_idx' AND n.nspname = '{schema}' AND i.indisvalid
            """));
    }

    [Fact]
    public async Task Migration_ddl_gives_up_on_a_held_table_lock_instead_of_queueing_behind_it()
    {
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource();
        var migrations = PostgresJobMigrations.GetMigrations(schema).ToList();
        await PostgresJobMigrations.ApplyAsync(dataSource, schema);
        migrations.Add(new PostgresMigration(migrations.Count + 1, "9999_alter", $"ALTER TABLE \"{schema}\".jobs ADD COLUMN probe integer;"));

        await using var holder = await dataSource.OpenConnectionAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var lockCommand = new NpgsqlCommand($"LOCK TABLE \"{schema}\".jobs IN ACCESS SHARE MODE", holder, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync();
        }

        var ex = await Assert.ThrowsAsync<PostgresMigrationException>(() =>
            PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, TimeSpan.FromMilliseconds(200), default).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(PostgresErrorCodes.LockNotAvailable, Assert.IsType<PostgresException>(ex.InnerException).SqlState);
        Assert.Contains($"pid {holder.ProcessID} (", ex.Message, StringComparison.Ordinal);
        await transaction.RollbackAsync();
        Assert.Equal("9999_alter", Assert.Single(await PostgresJobMigrations.ApplyAsync(dataSource, schema, migrations, TimeSpan.FromSeconds(10), default)));
    }
}
