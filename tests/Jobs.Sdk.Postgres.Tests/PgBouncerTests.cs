using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// README "Poll-only mode (PgBouncer)": what a user runs behind a real PgBouncer in transaction pooling mode. Migrations
/// go to PostgreSQL directly; workers, pushers, schedulers and the admin API go through PgBouncer with notifications off
/// and <c>MigrateOnStartup = false</c>. PgBouncer's server pool is small (<see cref="PgBouncer.ServerPoolSize"/>), so the
/// driver's many client connections share few server sessions, as they do in production.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PgBouncerTests(PostgresFixture fixture)
{
    private const string Schema = "jobs_bouncer";

    [Fact]
    public async Task Pushes_of_every_kind_through_pgbouncer_run_exactly_once_on_two_worker_hosts()
    {
        await using var bouncer = await StartAsync();
        var queueName = "bouncer_" + Guid.NewGuid().ToString("N")[..8];
        var runs = new ConcurrentDictionary<int, int>();
        var keyedRunning = 0;
        var keyedOverlap = 0;
        Action<JobsBuilder> jobs = b => b.AddJob<MessageJob>(async (job, _, ct) =>
        {
            if (job.Message == "keyed")
            {
                if (Interlocked.Increment(ref keyedRunning) > 1)
                {
                    Interlocked.Increment(ref keyedOverlap);
                }

                await Task.Yield();
                Interlocked.Decrement(ref keyedRunning);
            }

            runs.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
        });
        await using var pusher = await QueueAsync(bouncer, queueName, jobs);
        await using var a = await QueueAsync(bouncer, queueName, jobs);
        await using var b = await QueueAsync(bouncer, queueName, jobs);
        var expected = new HashSet<int>();

        // Single pushes, side by side; a batch; unique pushes (the second finds the key held); keyed pushes.
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => pusher.Queue.PushAsync(new MessageJob(i, "single"))));
        expected.UnionWith(Enumerable.Range(0, 40));
        await pusher.Queue.PushManyAsync(Enumerable.Range(1000, 200).Select(i => new MessageJob(i, "batch")));
        expected.UnionWith(Enumerable.Range(1000, 200));
        var first = await pusher.Queue.TryPushAsync(new MessageJob(2000, "unique"), new JobOptions { UniqueKey = "u1" });
        var second = await pusher.Queue.TryPushAsync(new MessageJob(2001, "unique"), new JobOptions { UniqueKey = "u1" });
        Assert.True(first.Inserted, "the first unique push inserts");
        Assert.False(second.Inserted, "the second unique push finds the key held");
        Assert.Equal(first.Id, second.Id);
        expected.Add(2000);
        for (var i = 3000; i < 3010; i++)
        {
            await pusher.Queue.PushAsync(new MessageJob(i, "keyed"), new JobOptions { ConcurrencyKey = "k" });
        }

        expected.UnionWith(Enumerable.Range(3000, 10));

        // Transactional pushes in the user's own transaction, on a connection through PgBouncer: one commits, one rolls back.
        await using (var direct = fixture.CreateDataSource())
        {
            await direct.ExecAsync($"CREATE TABLE IF NOT EXISTS {Schema}.bouncer_orders (queue text PRIMARY KEY)");
        }

        JobId rolledBack;
        await using (var connection = await pusher.DataSource.OpenConnectionAsync())
        {
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                await using (var order = new NpgsqlCommand($"INSERT INTO {Schema}.bouncer_orders VALUES ('{queueName}')", connection, transaction))
                {
                    await order.ExecuteNonQueryAsync();
                }

                await pusher.Queue.PushAsync(new MessageJob(4000, "committed"), transaction);
                await transaction.CommitAsync();
            }

            expected.Add(4000);
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                rolledBack = await pusher.Queue.PushAsync(new MessageJob(4001, "rolled back"), transaction);
                await transaction.RollbackAsync();
            }
        }

        await a.StartAsync();
        await b.StartAsync();

        // More single pushes while both hosts claim, renew and complete through the same few server sessions.
        await Task.WhenAll(Enumerable.Range(100, 40).Select(i => pusher.Queue.PushAsync(new MessageJob(i, "single"))));
        expected.UnionWith(Enumerable.Range(100, 40));

        await TestExtensions.EventuallyAsync(async () =>
        {
            var counts = await pusher.Queue.GetCountsAsync();
            return expected.All(runs.ContainsKey) && counts.Pending + counts.Processing + counts.Retrying == 0;
        }, 90, $"every job runs (ran {runs.Count} of {expected.Count}; PgBouncer log: {bouncer.Log})");

        Assert.Equal(expected.Order(), runs.Keys.Order());
        Assert.All(runs, r => Assert.True(r.Value == 1, $"job {r.Key} ran {r.Value} times"));
        Assert.Equal(0, keyedOverlap);
        Assert.Null(await pusher.Queue.GetJobAsync(rolledBack));
    }

    [Fact]
    public async Task A_queue_with_a_global_concurrency_and_a_rate_limit_runs_each_job_once_within_the_limit_through_pgbouncer()
    {
        await using var bouncer = await StartAsync();
        var queueName = "bouncer_" + Guid.NewGuid().ToString("N")[..8];
        var runs = new ConcurrentDictionary<int, int>();
        var running = 0;
        var most = 0;
        Action<JobsBuilder> jobs = b => b
            .AddQueue(queueName, q =>
            {
                q.GlobalConcurrency = 2;
                q.RateLimit = RateLimit.PerSecond(200);
            })
            .AddJob<MessageJob>(async (job, _, ct) =>
            {
                var now = Interlocked.Increment(ref running);
                int seen;
                while (now > (seen = Volatile.Read(ref most)) && Interlocked.CompareExchange(ref most, now, seen) != seen)
                {
                }

                await Task.Yield();
                Interlocked.Decrement(ref running);
                runs.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
            });
        await using var a = await QueueAsync(bouncer, queueName, jobs);
        await using var b = await QueueAsync(bouncer, queueName, jobs);
        await a.Queue.PushManyAsync(Enumerable.Range(0, 60).Select(i => new MessageJob(i, "limited")));
        await a.StartAsync();
        await b.StartAsync();
        await TestExtensions.EventuallyAsync(async () => runs.Count == 60 && (await a.Queue.GetCountsAsync()).Processing == 0, 90,
            $"every limited job runs (ran {runs.Count} of 60)");
        Assert.All(runs, r => Assert.True(r.Value == 1, $"job {r.Key} ran {r.Value} times"));
        Assert.InRange(most, 1, 2);
    }

    [Fact]
    public async Task Cancel_pause_resume_and_the_admin_api_work_through_pgbouncer()
    {
        await using var bouncer = await StartAsync();
        var queueName = "bouncer_" + Guid.NewGuid().ToString("N")[..8];
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ran = new Recorder<int>();
        await using var q = await QueueAsync(bouncer, queueName, b => b.AddJob<MessageJob>(async (job, _, ct) =>
        {
            if (job.Message == "block")
            {
                started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    cancelled.TrySetResult();
                    throw;
                }
            }

            if (job.Message == "fail")
            {
                throw new InvalidOperationException("boom");
            }

            ran.Add(job.Id);
        }), worker: o => o.LeaseDuration = TimeSpan.FromSeconds(3));

        // A delayed job: pause, resume and cancel.
        var delayed = await q.Queue.PushAsync(new MessageJob(1, "later"), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        Assert.True(await q.Queue.PauseAsync(delayed));
        Assert.Equal(JobState.Paused, (await q.Queue.GetJobAsync(delayed))!.State);
        Assert.True(await q.Queue.ResumeAsync(delayed));
        Assert.Equal(JobState.Pending, (await q.Queue.GetJobAsync(delayed))!.State);
        Assert.True(await q.Queue.CancelAsync(delayed));
        Assert.False(await q.Queue.ResumeAsync(delayed));

        // A running job learns of its cancel at a lease renewal (no LISTEN behind PgBouncer).
        await q.StartAsync();
        var blocking = await q.Queue.PushAsync(new MessageJob(2, "block"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(await q.Queue.CancelAsync(blocking));
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(60));

        // The admin API, on a data source through PgBouncer. The host's presence service reports the worker.
        var presence = q.Services.GetServices<IHostedService>().Single(s => s.GetType().Name == "JobPresenceService");
        await presence.StartAsync(CancellationToken.None);
        try
        {
            var admin = PostgresJobAdmin.Create(q.DataSource, new PostgresJobDriverOptions { Schema = Schema, QueueName = queueName, UseListenNotify = false, MigrateOnStartup = false });
            var audit = new AuditInfo("bouncer-test", "through PgBouncer");
            Assert.True(await admin.PauseQueueAsync(queueName, "maintenance", audit));
            Assert.Contains(await admin.GetQueuesAsync(), i => i.Name == queueName && i.IsPaused);
            await q.Queue.PushAsync(new MessageJob(3, "after resume"));
            Assert.True(await admin.ResumeQueueAsync(queueName, audit));
            await ran.WaitForCountAsync(1, 60);
            Assert.Equal([3], ran.Items);

            var failed = await q.Queue.PushAsync(new MessageJob(4, "fail"), new JobOptions { MaxAttempts = 1 });
            await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(failed))?.State == JobState.Failed, 60, "the failing job fails");
            var page = await admin.ListJobsAsync(new JobQuery { Queue = queueName, States = [JobState.Failed], Limit = 10 });
            Assert.Equal([failed], page.Items.Select(i => i.Id));
            Assert.Contains("boom", (await admin.GetJobAsync(failed))!.LastError, StringComparison.Ordinal);
            Assert.Equal(1, await admin.RetryAsync(JobSelection.Ids(failed), fromFirstAttempt: true, audit: audit));
            await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(failed))?.State == JobState.Failed, 60, "the retried job fails again");
            var later = await q.Queue.PushAsync(new MessageJob(5, "run now"), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
            Assert.Equal(1, await admin.SetPriorityAsync(JobSelection.Ids(later), JobPriority.Highest, audit));
            Assert.Equal(1, await admin.RunNowAsync(JobSelection.Ids(later), audit));
            await ran.WaitForCountAsync(2, 60);
            Assert.Equal([3, 5], ran.Items);
            await TestExtensions.EventuallyAsync(async () => (await admin.GetWorkersAsync()).Any(w => w.Queues.Contains(queueName)), 60, "the worker is reported");
            Assert.NotEmpty(await admin.GetAuditLogAsync(10));
            Assert.Equal(1, await admin.DeleteAsync(JobSelection.Ids(failed), audit));
            var waiting = await q.Queue.PushAsync(new MessageJob(6, "cancelled by admin"), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
            Assert.Equal(1, await admin.CancelAsync(JobSelection.Ids(waiting), audit));
            Assert.Equal(JobState.Cancelled, (await admin.GetJobAsync(waiting))!.State);
        }
        finally
        {
            await presence.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_job_of_a_dead_worker_is_rescued_and_runs_through_pgbouncer()
    {
        await using var bouncer = await StartAsync();
        var queueName = "bouncer_" + Guid.NewGuid().ToString("N")[..8];
        var ran = new Recorder<(int Id, int Attempt)>();
        await using var q = await QueueAsync(bouncer, queueName, b => b.AddJob<MessageJob>((job, context, _) =>
        {
            ran.Add((job.Id, context.Attempt));
            return Task.CompletedTask;
        }), worker: o => o.RescueInterval = TimeSpan.FromMilliseconds(200));
        var id = await q.Queue.PushAsync(new MessageJob(7, "orphan"));

        // A worker claimed it and died: processing, its lease over.
        await using (var direct = fixture.CreateDataSource())
        {
            await using var claim = direct.CreateCommand(
                $"UPDATE {Schema}.jobs SET state = 1, attempts = 1, worker_id = 'dead:1:x', lease_token = gen_random_uuid(), started_at = now(), " +
                "lease_expires_at = now() - interval '1 minute' WHERE id = $1");
            claim.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.Value });
            Assert.Equal(1, await claim.ExecuteNonQueryAsync());
        }

        await q.StartAsync();
        await ran.WaitForCountAsync(1, 60);
        Assert.Equal([(7, 2)], ran.Items);
    }

    [Fact]
    public async Task Two_schedulers_through_pgbouncer_push_each_fire_once()
    {
        await using var bouncer = await StartAsync();
        var queueName = "bouncer_" + Guid.NewGuid().ToString("N")[..8];
        var key = "hourly_" + queueName;
        var start = new DateTimeOffset(2031, 3, 1, 10, 30, 0, TimeSpan.Zero); // future of the database clock: nothing is due
        var nodes = new List<(ServiceProvider Provider, NpgsqlDataSource DataSource, FakeTimeProvider Time, JobScheduler Scheduler, SchedulerProbe Probe)>();
        IHostedService? presence = null;
        try
        {
            for (var n = 0; n < 2; n++)
            {
                var time = new FakeTimeProvider(start);
                var dataSource = PostgresJobsBuilderExtensions.CreateDataSource(bouncer.ConnectionString);
                var services = new ServiceCollection();
                services.AddSingleton<TimeProvider>(time);
                services.AddJobs(jobs => jobs
                    .UsePostgres(dataSource, o => Behind(o, queueName))
                    .AddSchedule(s => s.Add(new ValueJob(1), Schedule.Hourly(), ScheduleAccuracy.All, key: key)));
                var provider = services.BuildServiceProvider();
                var probe = new SchedulerProbe();
                var scheduler = provider.GetRequiredService<JobScheduler>();
                probe.Attach(scheduler);
                nodes.Add((provider, dataSource, time, scheduler, probe));
                await scheduler.StartAsync(CancellationToken.None);
                await probe.SettledAsync([key], time.GetUtcNow());
            }

            foreach (var node in nodes)
            {
                node.Time.Advance(TimeSpan.FromHours(3));
            }

            foreach (var node in nodes)
            {
                await node.Probe.SettledAsync([key], node.Time.GetUtcNow());
            }

            Assert.Equal(3, nodes.Sum(n => n.Probe.PushedCount(key)));
            await using var direct = fixture.CreateDataSource();
            Assert.Equal(3, await direct.ScalarAsync($"SELECT count(*) FROM {Schema}.jobs WHERE queue_name = '{queueName}'"));
            var admin = PostgresJobAdmin.Create(nodes[0].DataSource, new PostgresJobDriverOptions { Schema = Schema, QueueName = queueName });
            presence = nodes[0].Provider.GetServices<IHostedService>().Single(s => s.GetType().Name == "JobPresenceService");
            await presence.StartAsync(CancellationToken.None);
            await TestExtensions.EventuallyAsync(async () => (await admin.GetSchedulesAsync()).Any(s => s.EntryKey == key && s.QueueName == queueName), 60,
                "the scheduler publishes its entry");
            Assert.Equal(1, await admin.PauseScheduleAsync(key));
            Assert.Contains(await admin.GetSchedulesAsync(), s => s.EntryKey == key && s.IsPaused);
            Assert.Equal(1, await admin.ResumeScheduleAsync(key));
            Assert.Equal(1, await admin.TriggerScheduleAsync(key, new AuditInfo("bouncer-test", null)));
            Assert.Equal(4, await direct.ScalarAsync($"SELECT count(*) FROM {Schema}.jobs WHERE queue_name = '{queueName}'"));
        }
        finally
        {
            if (presence is not null)
            {
                await presence.StopAsync(CancellationToken.None);
            }

            foreach (var node in nodes)
            {
                await node.Scheduler.StopAsync(CancellationToken.None);
                await node.Provider.DisposeAsync();
                await node.DataSource.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_push_in_the_users_transaction_is_prepared_directly_and_not_through_pgbouncer()
    {
        // Directly, the push in the caller's transaction stays a prepared statement (the hot path is unchanged); through
        // PgBouncer, the driver prepares nothing on the caller's connection either.
        await using var bouncer = await StartAsync();
        var queueName = "bouncer_" + Guid.NewGuid().ToString("N")[..8];
        await using var directQueue = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask),
            o => Behind(o, queueName), queueName: queueName);
        await using var pooledQueue = await QueueAsync(bouncer, queueName, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask));
        Assert.Equal(1, await PreparedInTransactionAsync(directQueue));
        Assert.Equal(0, await PreparedInTransactionAsync(pooledQueue));

        static async Task<long> PreparedInTransactionAsync(TestQueue q)
        {
            await using var connection = await q.DataSource.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var before = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements", connection, transaction))
            {
                var already = (long)(await before.ExecuteScalarAsync())!;
                await q.Queue.PushAsync(new MessageJob(1, "in a transaction"), transaction);
                await using var after = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements", connection, transaction);
                var prepared = (long)(await after.ExecuteScalarAsync())! - already;
                await transaction.RollbackAsync();
                return prepared;
            }
        }
    }

    [Fact]
    public async Task Migrating_on_startup_through_pgbouncer_fails_with_an_actionable_error_and_leaves_no_migration_lock_held()
    {
        // A host left with MigrateOnStartup = true (the default) behind PgBouncer, and a schema with pending migrations:
        // the migration lock is a session lock, which transaction pooling leaves on whichever server session took it, so
        // the next deploy's migrations would wait for it. The driver refuses and says what to do instead.
        await using var bouncer = await StartAsync();
        var schema = "jobs_bouncer_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await using var pooled = PostgresJobsBuilderExtensions.CreateDataSource(bouncer.ConnectionString);
        try
        {
            await using (var host = Host(pooled, schema))
            {
                // The application's other traffic through PgBouncer meanwhile, so that its few server sessions change hands.
                using var stop = new CancellationTokenSource();
                var traffic = Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        await using var command = pooled.CreateCommand("SELECT pg_sleep(0.001)");
                        await command.ExecuteNonQueryAsync();
                    }
                }));
                var error = await Record.ExceptionAsync(
                    () => host.GetRequiredService<PostgresJobDriver>().WaitUntilReadyAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
                await stop.CancelAsync();
                await traffic;
                var held = await HeldMigrationLocksAsync(direct, schema);
                Assert.True(error is JobQueueUnavailableException && error.Message.Contains("direct connection", StringComparison.Ordinal),
                    $"Migrating through PgBouncer: {error?.GetType().Name ?? "no error"} {error?.Message}; migration locks left held: {held}");
                Assert.Equal(0, held);
            }

            // Applied directly, the same host behind PgBouncer starts: a current schema is only verified.
            Assert.Equal(PostgresJobMigrations.GetMigrations(schema).Count, (await PostgresJobMigrations.ApplyAsync(direct, schema)).Count);
            await using (var host = Host(pooled, schema))
            {
                await host.GetRequiredService<PostgresJobDriver>().WaitUntilReadyAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
                var queue = host.GetRequiredService<JobQueue>();
                Assert.NotNull(await queue.GetJobAsync(await queue.PushAsync(new MessageJob(1, "after a direct migration"))));
            }
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }

        static ServiceProvider Host(NpgsqlDataSource pooled, string schema)
        {
            var services = new ServiceCollection();
            services.AddJobs(jobs => jobs
                .UsePostgres(pooled, o =>
                {
                    o.Schema = schema;
                    o.UseListenNotify = false; // MigrateOnStartup left on (the default)
                })
                .AddJob<MessageJob>((_, _, _) => Task.CompletedTask));
            return services.BuildServiceProvider();
        }

        static Task<long> HeldMigrationLocksAsync(NpgsqlDataSource direct, string schema) => direct.ScalarAsync(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND " +
            $"((classid::bigint << 32) | objid::bigint) = {PostgresJobMigrations.LockKey(schema)}");
    }

    /// <summary>Applies the migrations directly (README: not through PgBouncer), then starts PgBouncer in front of the server.</summary>
    private async Task<PgBouncer> StartAsync()
    {
        await using (var direct = fixture.CreateDataSource())
        {
            await PostgresJobMigrations.ApplyAsync(direct, Schema);
        }

        return await PgBouncer.StartAsync(fixture.ConnectionString);
    }

    private static void Behind(PostgresJobDriverOptions o, string queueName)
    {
        o.Schema = Schema;
        o.QueueName = queueName;
        o.UseListenNotify = false;
        o.MigrateOnStartup = false;
        o.PollInterval = TimeSpan.FromMilliseconds(100);
    }

    private Task<TestQueue> QueueAsync(PgBouncer bouncer, string queueName, Action<JobsBuilder> jobs, Action<JobWorkerOptions>? worker = null)
        => TestQueue.CreateAsync(fixture, jobs, o => Behind(o, queueName), worker, queueName,
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(bouncer.ConnectionString));
}
