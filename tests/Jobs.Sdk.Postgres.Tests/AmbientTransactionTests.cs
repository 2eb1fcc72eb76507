using System.Collections.Concurrent;
using System.Transactions;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Pushes and hosts inside a <see cref="TransactionScope"/> with async flow (ASP.NET request code, tests that roll back):
/// a push joins the ambient transaction as a transactional push does; the SDK's own statements and the handlers of a
/// worker started inside a scope never join it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AmbientTransactionTests(PostgresFixture fixture)
{
    private static TransactionScope Scope() => new(TransactionScopeOption.Required, TransactionScopeAsyncFlowOption.Enabled);

    private static TransactionScope Outside() => new(TransactionScopeOption.Suppress, TransactionScopeAsyncFlowOption.Enabled);

    [Fact]
    public async Task Push_in_a_scope_that_does_not_complete_stores_nothing()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        JobId id;
        using (Scope())
        {
            id = await q.Queue.PushAsync(new ValueJob(1));
        }

        Assert.Null(await q.Queue.GetJobAsync(id));
    }

    [Fact]
    public async Task Push_in_a_completed_scope_is_stored_once_and_runs()
    {
        var seen = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            seen.Add(job.Value);
            return Task.CompletedTask;
        }));
        JobId id;
        using (var scope = Scope())
        {
            id = await q.Queue.PushAsync(new ValueJob(7));
            await q.Queue.PushAsync(new ValueJob(8)); // a second push in the same scope: no second connection to escalate
            scope.Complete();
        }

        // Stored at the scope's commit; read before a worker runs it (retention deletes a completed job at once, so a read
        // after the run raced the job's own outcome).
        Assert.NotNull(await q.Queue.GetJobAsync(id));
        Assert.Equal(2, (await q.Queue.GetCountsAsync()).Pending);
        await q.StartAsync();
        await seen.WaitForCountAsync(2);
        Assert.Equal([7, 8], seen.Items.Order());
    }

    [Fact]
    public async Task Push_of_more_than_one_statement_of_jobs_in_a_scope_joins_it()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        using (Scope())
        {
            await q.Queue.PushManyAsync(Enumerable.Range(0, 10_001).Select(i => new ValueJob(i)));
        }

        Assert.Equal(0, (await q.Queue.GetCountsAsync()).Pending);
        using (var scope = Scope())
        {
            await q.Queue.PushManyAsync(Enumerable.Range(0, 10_001).Select(i => new ValueJob(i)));
            scope.Complete();
        }

        Assert.Equal(10_001, (await q.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task Unique_pushes_in_a_scope_join_it()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<UniqueValueJob>((_, _, _) => Task.CompletedTask));
        JobPushResult single;
        IReadOnlyList<JobPushResult> many;
        using (Scope())
        {
            single = await q.Queue.TryPushAsync(new UniqueValueJob(1));
            many = await q.Queue.TryPushManyAsync([new UniqueValueJob(2), new UniqueValueJob(3)]);
            Assert.True(single.Inserted);
            Assert.All(many, r => Assert.True(r.Inserted));
        }

        Assert.Null(await q.Queue.GetJobAsync(single.Id));
        Assert.Null(await q.Queue.GetJobAsync(many[0].Id));
        Assert.True((await q.Queue.TryPushAsync(new UniqueValueJob(1))).Inserted); // the key was never held
    }

    [Fact]
    public async Task Worker_started_inside_a_scope_runs_jobs_outside_it()
    {
        var ambient = new Recorder<string?>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) =>
        {
            ambient.Add(Transaction.Current?.TransactionInformation.LocalIdentifier);
            return Task.CompletedTask;
        }), driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, CancelledJobs = Retain.Yes });
        JobId id;
        using (Scope()) // never completed: a test that rolls back everything it did
        {
            await q.StartAsync();
            using (Outside())
            {
                id = await q.Queue.PushAsync(new ValueJob(1));
            }

            await ambient.WaitForCountAsync(1);
            using (Outside())
            {
                await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Completed);
            }
        }

        Assert.Equal([null], ambient.Items); // the handler ran in no transaction of the code that started the worker
        Assert.Equal(JobState.Completed, (await q.Queue.GetJobAsync(id))!.State); // its claim and outcome are not rolled back
    }

    [Fact]
    public async Task Queue_reads_and_control_inside_a_scope_do_not_join_it()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask),
            driver: o => o.Retention = new RetentionPolicy { CancelledJobs = Retain.Yes });
        var id = await q.Queue.PushAsync(new ValueJob(1));
        var admin = q.Services.GetRequiredService<JobAdmin>();
        using (Scope())
        {
            Assert.True(await q.Queue.CancelAsync(id));
            Assert.True(await admin.PauseQueueAsync(q.Driver.QueueName));
        }

        Assert.Equal(JobState.Cancelled, (await q.Queue.GetJobAsync(id))!.State);
        Assert.True(await q.Driver.IsQueuePausedAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Push_in_a_scope_beside_the_apps_own_connection_of_the_same_data_source()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        JobId id;
        using (var scope = Scope())
        {
            await using (var connection = await q.DataSource.OpenConnectionAsync())
            {
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync();
            }

            id = await q.Queue.PushAsync(new ValueJob(1)); // the pool hands back the scope's connection: one enlistment
            scope.Complete();
        }

        Assert.NotNull(await q.Queue.GetJobAsync(id));
    }

    [Fact]
    public async Task Push_in_a_scope_beside_a_connection_of_another_data_source_commits_all_or_nothing()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        await using var app = NpgsqlDataSource.Create(fixture.ConnectionString); // an ORM's own data source
        var table = "ambient_" + Guid.NewGuid().ToString("N")[..8];
        await using (var create = app.CreateCommand($"CREATE TABLE {table} (id int)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        JobId id = default;
        var failure = await Record.ExceptionAsync(async () =>
        {
            using var scope = Scope();
            await using (var connection = await app.OpenConnectionAsync())
            {
                await using var insert = new NpgsqlCommand($"INSERT INTO {table} VALUES (1)", connection);
                await insert.ExecuteNonQueryAsync();
                id = await q.Queue.PushAsync(new ValueJob(1)); // a second session in the scope
            }

            scope.Complete();
        });

        await using var count = app.CreateCommand($"SELECT count(*) FROM {table}");
        var rows = (long)(await count.ExecuteScalarAsync())!;
        var job = await q.Queue.GetJobAsync(id);
        Assert.Equal(rows == 1, job is not null); // all or nothing
        // Two sessions in one scope commit in two phases (PREPARE TRANSACTION): refused while the server's
        // max_prepared_transactions is 0 (its default), and then neither commits.
        Assert.True(failure is null ? rows == 1 : rows == 0 && failure is TransactionAbortedException, $"rows {rows}, failure {failure}");
    }

    [Fact]
    public async Task Handler_that_opens_its_own_scope_pushes_follow_ups_in_it()
    {
        JobQueue? queue = null;
        var ran = new Recorder<int>();
        var followUps = new ConcurrentDictionary<int, JobId>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (job, _, ct) =>
        {
            if (job.Value < 10)
            {
                using var scope = Scope();
                followUps[job.Value] = await queue!.PushAsync(new ValueJob(job.Value * 10 + 1), cancellationToken: ct);
                if (job.Value == 1)
                {
                    scope.Complete();
                }
            }

            ran.Add(job.Value);
        }));
        queue = q.Queue;
        using (Scope()) // the test's own scope, open (never completed) while the worker runs
        {
            await q.StartAsync();
            using (Outside())
            {
                await q.Queue.PushAsync(new ValueJob(2)); // its follow-up's scope does not complete
                await q.Queue.PushAsync(new ValueJob(1));
                await ran.WaitForCountAsync(3); // 1, 2 and 11 (whichever order)
                Assert.Equal([1, 2, 11], ran.Items.Order());
                Assert.Null(await q.Queue.GetJobAsync(followUps[2])); // rolled back with the handler's scope
            }
        }
    }

    [Fact]
    public async Task Transactional_push_on_a_connection_of_another_data_source_with_other_settings()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        var settings = new NpgsqlConnectionStringBuilder(fixture.ConnectionString)
        {
            SearchPath = "nowhere", Enlist = false, NoResetOnClose = true, ApplicationName = "orm",
        };
        await using var app = NpgsqlDataSource.Create(settings.ConnectionString); // an ORM's own data source, full (not slim)
        JobId committed, rolledBack;
        await using (var connection = await app.OpenConnectionAsync())
        {
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                committed = await q.Queue.PushAsync(new ValueJob(1), transaction);
                await q.Queue.PushManyAsync([new ValueJob(2), new ValueJob(3)], transaction);
                await transaction.CommitAsync();
            }

            await using (var transaction = await connection.BeginTransactionAsync())
            {
                rolledBack = await q.Queue.PushAsync(new ValueJob(4), transaction);
                await transaction.RollbackAsync();
            }

            using (Scope()) // Enlist=false: the app's connection ignores scopes; a push given its transaction too
            {
                await using var transaction = await connection.BeginTransactionAsync();
                await q.Queue.PushAsync(new ValueJob(5), transaction);
                await transaction.CommitAsync();
            }
        }

        Assert.NotNull(await q.Queue.GetJobAsync(committed));
        Assert.Null(await q.Queue.GetJobAsync(rolledBack));
        Assert.Equal(4, (await q.Queue.GetCountsAsync()).Pending);

        // A transaction whose connection was closed (an ORM that opened and closed it) is refused, not used.
        var closed = await app.OpenConnectionAsync();
        var gone = await closed.BeginTransactionAsync();
        await closed.CloseAsync();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => q.Queue.PushAsync(new ValueJob(6), gone));
        Assert.Contains("already been committed or rolled back", error.Message);
        await closed.DisposeAsync();
    }

    [Fact]
    public async Task Scheduler_started_inside_a_scope_commits_its_fires()
    {
        var queueName = "ambient_sched_" + Guid.NewGuid().ToString("N")[..8];
        // Fake time well in the future of the database clock: the fired job is never due, nothing depends on that.
        var start = new DateTimeOffset(2031, 3, 1, 10, 0, 30, TimeSpan.Zero);
        await using var node = PostgresSchedulerNode.Create(fixture, "jobs_test", queueName, start,
            s => s.Add(new ValueJob(1), Schedule.EveryMinute(), key: "every-minute"));
        using (Scope()) // the test's own scope, open while the scheduler fires
        {
            await node.StartAsync();
            await node.SettledAsync().WaitAsync(TimeSpan.FromSeconds(60));
            node.Time.Advance(TimeSpan.FromMinutes(1));
            await node.SettledAsync().WaitAsync(TimeSpan.FromSeconds(60));
            using (Outside())
            {
                await using var dataSource = fixture.CreateDataSource();
                await using var count = dataSource.CreateCommand("SELECT count(*) FROM jobs_test.jobs WHERE queue_name = $1");
                count.Parameters.AddWithValue(queueName);
                Assert.Equal(1L, await count.ExecuteScalarAsync()); // the fire committed, not held in the test's scope
            }
        }
    }
}
