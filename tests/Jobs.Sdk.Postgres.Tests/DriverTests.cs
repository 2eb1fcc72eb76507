using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Jobs.Sdk.Drivers;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Driver-level semantics: ownership, leases, rescue, batches, transactions, schedule fires, wake-ups.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DriverTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private static JobPushRecord Record(int value, JobPriority priority = JobPriority.Normal, DateTimeOffset? runAt = null, int maxAttempts = 4,
        IReadOnlyDictionary<string, string>? headers = null) => new()
    {
        Id = JobId.New(),
        Name = ValueJob.JobName,
        Payload = Encoding.UTF8.GetBytes($"{{\"value\":{value}}}"),
        Priority = priority,
        RunAt = runAt,
        MaxAttempts = maxAttempts,
        Headers = headers,
    };

    // Claim order, outcomes, leases and rescue: tests/Shared/Conformance/JobDriverConformanceTests.cs (PostgresDriverConformanceTests).

    [Fact]
    public async Task Claim_and_renewal_set_the_lease_on_the_database_clock()
    {
        // Exact relations on the database clock, not a window of the wall clock: a loaded machine may take seconds between statements.
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        var d = q.Driver;
        var first = Record(1);
        var second = Record(2);
        await d.PushAsync([first], null, default);
        Assert.Single(await d.ClaimAsync(new JobClaimRequest("w1", 10, Minute), default));
        Assert.Equal(60_000, await LeaseAfterClaimMsAsync(q, first.Id));

        await d.PushAsync([second], null, default);
        var claimed = Assert.Single(await d.ClaimAsync(new JobClaimRequest("w1", 10, TimeSpan.FromSeconds(5)), default));
        Assert.Equal(5_000, await LeaseAfterClaimMsAsync(q, second.Id));

        var before = await DatabaseNowAsync(q);
        Assert.Same(LeaseRenewalResult.None, await d.RenewLeasesAsync("w1", [new JobLease(second.Id, claimed.LeaseToken)], Minute, default));
        var after = await DatabaseNowAsync(q);
        var lease = await q.DataSource.ScalarAsync($"SELECT {Micros("lease_expires_at")} FROM jobs_test.jobs WHERE id = '{second.Id}'");
        Assert.InRange(lease, before + 60_000_000, after + 60_000_000);
    }

    /// <summary>The lease's length as set by the claim: the claim sets <c>updated_at</c> and the lease from one <c>now()</c>.</summary>
    private static Task<long> LeaseAfterClaimMsAsync(TestQueue q, JobId id)
        => q.DataSource.ScalarAsync($"SELECT (extract(epoch FROM lease_expires_at - updated_at) * 1000)::bigint FROM jobs_test.jobs WHERE id = '{id}'");

    private static Task<long> DatabaseNowAsync(TestQueue q) => q.DataSource.ScalarAsync($"SELECT {Micros("clock_timestamp()")}");

    private static string Micros(string timestamp) => $"(extract(epoch FROM {timestamp}) * 1000000)::bigint";

    [Fact]
    public async Task Equal_priority_and_run_time_are_claimed_in_id_order_whatever_the_push_order()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        var at = DateTimeOffset.UtcNow.AddSeconds(-5);
        var ids = Enumerable.Range(0, 6).Select(_ => JobId.New()).OrderBy(i => i.Value).ToArray();
        await q.Driver.PushAsync(ids.Reverse().Select(id => Record(1, runAt: at) with { Id = id }).ToList(), null, default);
        // One at a time: the LIMIT picks in (priority, run_at, id) order in SQL, not only the sort after RETURNING.
        var claimed = new List<JobId>();
        for (var i = 0; i < ids.Length; i++)
        {
            claimed.Add(Assert.Single(await q.Driver.ClaimAsync(new JobClaimRequest("w", 1, Minute), default)).Id);
        }

        Assert.Equal(ids, claimed);
    }

    [Fact]
    public async Task Claimed_payload_is_the_stored_jsonb_text()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        await q.Driver.PushAsync([Record(1)], null, default);
        var job = Assert.Single(await q.Driver.ClaimAsync(new JobClaimRequest("w", 1, Minute), default));
        Assert.Equal("{\"value\": 1}", Encoding.UTF8.GetString(job.Payload.Span));
    }

    [Fact]
    public async Task Push_many_beyond_the_parameter_limit()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        var ids = await q.Queue.PushManyAsync(Enumerable.Range(0, 100_000).Select(i => new ValueJob(i)));
        Assert.Equal(100_000, ids.Count);
        Assert.Equal(100_000, (await q.Queue.GetCountsAsync()).Pending);
        Assert.Equal(99_999L, await q.DataSource.ScalarAsync(
            $"SELECT (payload->>'value')::int FROM jobs_test.jobs WHERE id = '{ids[^1]}'"));
        await q.Queue.CleanupAsync(new CleanupOptions { PendingJobs = CleanupAction.Remove });
        Assert.Equal(0, (await q.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task Transactional_push_exists_only_if_the_caller_commits()
    {
        var ran = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) => { ran.Add(job.Value); return Task.CompletedTask; }));
        await using var connection = await q.DataSource.OpenConnectionAsync();
        JobId rolledBack;
        await using (var tx = await connection.BeginTransactionAsync())
        {
            rolledBack = await q.Queue.PushAsync(new ValueJob(1), tx);
            Assert.Null(await q.Queue.GetJobAsync(rolledBack)); // not visible outside the uncommitted transaction
            await tx.RollbackAsync();
        }

        Assert.Null(await q.Queue.GetJobAsync(rolledBack));
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await q.Queue.PushManyAsync([new ValueJob(2), new ValueJob(3)], tx);
            await tx.CommitAsync();
        }

        await q.StartAsync();
        await ran.WaitForCountAsync(2);
        Assert.Equal([2, 3], ran.Items.Order());
    }

    [Fact]
    public async Task Transactional_push_rejects_foreign_transactions()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => q.Queue.PushAsync(new ValueJob(1), new FakeTransaction()));
        Assert.Contains("NpgsqlTransaction", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listen_notify_wakes_idle_workers_long_before_the_poll_interval()
    {
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => { ran.TrySetResult(); return Task.CompletedTask; }),
            driver: o => o.PollInterval = TimeSpan.FromSeconds(30));
        await q.StartAsync();
        // Another driver instance (another node) pushes: only the notification can wake the idle worker in time.
        await using var pusher = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: q.Queue.QueueName);
        await q.ListeningAsync();
        await pusher.Queue.PushAsync(new ValueJob(1));
        await ran.Task.WaitAsync(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task Wait_for_work_returns_at_once_after_a_notification()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { }, driver: o => o.PollInterval = TimeSpan.FromSeconds(60));
        using var cts = new CancellationTokenSource();
        var first = q.Driver.WaitForWorkAsync(cts.Token); // starts the listener; it signals once connected
        await first.WaitAsync(TimeSpan.FromSeconds(30));
        await q.Driver.PushAsync([Record(1)], null, default);
        // The notification may arrive before or during this call: either way it returns without the 60 s poll.
        await q.Driver.WaitForWorkAsync(cts.Token).WaitAsync(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task Idle_waits_and_wake_ups_of_delayed_jobs_run_on_the_drivers_time_provider()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var driver = new PostgresJobDriver(fixture.CreateDataSource(), new PostgresJobDriverOptions
        {
            Schema = "jobs_test",
            QueueName = "time_" + Guid.NewGuid().ToString("N")[..10],
            UseListenNotify = false,
            PollInterval = TimeSpan.FromHours(1),
        }, logger: null, timeProvider: time, ownsDataSource: true);
        await driver.WaitUntilReadyAsync(default);

        // Nothing can end this wait but the fake clock reaching the poll interval.
        var idle = driver.WaitForWorkAsync(default);
        Assert.False(idle.IsCompleted);
        time.Advance(TimeSpan.FromHours(1));
        await idle.WaitAsync(TimeSpan.FromSeconds(30));

        // Poll-only mode: a delayed push ends the next idle wait when the job falls due on that clock.
        await driver.PushAsync([Record(1, runAt: time.GetUtcNow().AddMinutes(5))], null, default);
        var delayed = driver.WaitForWorkAsync(default);
        Assert.False(delayed.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(5));
        await delayed.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Schedule_store_records_each_fire_once()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        IJobScheduleStore store = q.Driver;
        Assert.Null(await store.GetLastFireTimeAsync("nightly", default));
        var fire = new DateTimeOffset(2026, 1, 1, 3, 0, 0, TimeSpan.Zero);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => store.TryPushScheduledAsync("nightly", fire, Record(1), default)));
        Assert.Single(results, r => r);
        Assert.Equal(1, (await q.Queue.GetCountsAsync()).Pending);
        Assert.True(await store.TryPushScheduledAsync("nightly", fire.AddDays(1), Record(2), default));
        Assert.True(await store.TryPushScheduledAsync("hourly", fire.AddDays(5), Record(3), default));
        Assert.Equal(fire.AddDays(1), await store.GetLastFireTimeAsync("nightly", default));
        Assert.Equal(3, (await q.Queue.GetCountsAsync()).Pending);

        // Another queue has its own fires.
        await using var other = await TestQueue.CreateAsync(fixture, _ => { });
        Assert.Null(await ((IJobScheduleStore)other.Driver).GetLastFireTimeAsync("nightly", default));
        Assert.True(await ((IJobScheduleStore)other.Driver).TryPushScheduledAsync("nightly", fire, Record(1), default));
    }

    [Fact]
    public async Task Queue_names_with_sql_metacharacters_are_plain_values()
    {
        const string evil = "q'; DROP TABLE jobs_test.jobs; --\"$1 \\ ü";
        var ran = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) => { ran.Add(job.Value); return Task.CompletedTask; }),
            queueName: evil + Guid.NewGuid().ToString("N"));
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(9));
        await ran.WaitForCountAsync(1);
        Assert.Equal(1L, await q.DataSource.ScalarAsync("SELECT count(*) FROM pg_tables WHERE schemaname = 'jobs_test' AND tablename = 'jobs'"));
        Assert.NotEqual(default, id);
    }

    [Theory]
    [InlineData("jobs; DROP TABLE x")]
    [InlineData("\"jobs\"")]
    [InlineData("1jobs")]
    [InlineData("")]
    [InlineData("a-b")]
    public void Schema_names_are_validated(string schema)
    {
        var ex = Assert.Throws<ArgumentException>(() => new PostgresJobDriver(fixture.CreateDataSource(), new PostgresJobDriverOptions { Schema = schema }));
        Assert.Contains("not a valid schema name", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => PostgresJobMigrations.GetScript(schema));
    }

    [Fact]
    public void Long_queue_names_get_a_hashed_channel_within_the_identifier_limit()
    {
        var channel = PostgresNotifier.ChannelName("jobs", new string('x', 200));
        Assert.True(Encoding.UTF8.GetByteCount(channel) <= 63);
        Assert.NotEqual(channel, PostgresNotifier.ChannelName("jobs", new string('x', 199)));
        Assert.Equal("jobs:jobs:emails", PostgresNotifier.ChannelName("jobs", "emails"));
    }

    [Fact]
    public async Task Notification_payloads_written_by_sql_and_by_csharp_read_back_the_same()
    {
        var id = JobId.New();
        var token = Guid.NewGuid();
        var dueAt = new DateTimeOffset(2026, 3, 1, 12, 30, 15, 123, TimeSpan.Zero);
        await using var dataSource = fixture.CreateDataSource();
        await using var command = dataSource.CreateCommand(
            $"SELECT {JobNotification.SqlDue}, {JobNotification.SqlDueAt("$1::timestamptz")}, {JobNotification.SqlCancelRequested("$2::uuid", "$3::uuid")}, {JobNotification.SqlCancelRequested("$2::uuid", "NULL::uuid")}");
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = dueAt.UtcDateTime, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.Value });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = token });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var expected = new[]
        {
            new JobNotification(JobNotificationKind.Due),
            new JobNotification(JobNotificationKind.DueAt, DueAtUnixMs: dueAt.ToUnixTimeMilliseconds()),
            new JobNotification(JobNotificationKind.CancelRequested, JobId: id, LeaseToken: token),
            new JobNotification(JobNotificationKind.CancelRequested, JobId: id), // no claim named: what older versions send
        };
        for (var i = 0; i < expected.Length; i++)
        {
            var payload = reader.GetString(i);
            Assert.Equal(expected[i].Format(), payload);
            Assert.True(JobNotification.TryParse(payload, out var parsed));
            Assert.Equal(expected[i], parsed);
        }

        Assert.False(JobNotification.TryParse("x:1", out _));
        Assert.False(JobNotification.TryParse("d:soon", out _));
        Assert.False(JobNotification.TryParse("c:not-a-uuid", out _));
    }

    [SuppressMessage("Design", "CA1065", Justification = "Test double.")]
    private sealed class FakeTransaction : DbTransaction
    {
        public override IsolationLevel IsolationLevel => IsolationLevel.ReadCommitted;
        protected override DbConnection? DbConnection => null;
        public override void Commit() { }
        public override void Rollback() { }
    }
}

[Collection(PostgresCollection.Name)]
public sealed class DriverExtraTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Slim_data_source_without_arrays_gives_an_actionable_error()
    {
        var builder = new NpgsqlSlimDataSourceBuilder(fixture.ConnectionString);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), dataSource: builder.Build());
        // A single push needs no arrays.
        await q.Queue.PushAsync(new ValueJob(1));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => q.Queue.PushManyAsync([new ValueJob(2), new ValueJob(3)]));
        Assert.Contains("EnableArrays()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Claim_uses_the_partial_runnable_index_with_a_large_finished_history()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        await q.DataSource.ExecAsync($$"""
            INSERT INTO jobs_test.jobs (id, queue_name, name, payload, state, finished_at)
            SELECT gen_random_uuid(), '{{q.Queue.QueueName}}', 'old', '{}', 3, now() FROM generate_series(1, 50000);
            ANALYZE jobs_test.jobs;
            """);
        await q.Queue.PushAsync(new ValueJob(1));
        await using var connection = await q.DataSource.OpenConnectionAsync();
        var sql = "EXPLAIN " + JobSql.Claim.Replace("{s}", "\"jobs_test\"", StringComparison.Ordinal)
            .Replace("$1", $"'{q.Queue.QueueName}'", StringComparison.Ordinal).Replace("$2", "10", StringComparison.Ordinal)
            .Replace("$3", "'w'", StringComparison.Ordinal).Replace("$4", "1000", StringComparison.Ordinal)
            .Replace("$5", $"ARRAY['{ValueJob.JobName}']", StringComparison.Ordinal) // the worker's registered names
            .Replace("$6", "NULL", StringComparison.Ordinal) // all claimed jobs start now
            .Replace("$7", "gen_random_uuid()", StringComparison.Ordinal); // the claim's lease tokens derive from it
        await using var command = new NpgsqlCommand(sql, connection);
        var plan = new StringBuilder();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.AppendLine(reader.GetString(0));
            }
        }

        Assert.Contains("jobs_runnable_idx", plan.ToString(), StringComparison.Ordinal);
        Assert.Single(await q.Driver.ClaimAsync(new JobClaimRequest("w", 10, TimeSpan.FromMinutes(1)), default));
        await q.Queue.CleanupAsync(new CleanupOptions { CompletedJobs = CleanupAction.Remove });
    }

    [Theory]
    [InlineData(true, "off", 300)]
    [InlineData(false, "on", 30)]
    public async Task Fast_worker_commits_drain_the_queue_with_claims_and_completions_committed_asynchronously(bool fast, string expected, int jobs)
    {
        // A trigger records the synchronous_commit setting in force inside each claim (row set to processing) and each
        // completion (completed row deleted): the setting the driver's worker batches actually ran with. By default both
        // wait for the WAL flush: a claim lost in a database crash while its handler runs would let a second worker run
        // the job at the same time, so only FastWorkerCommits trades that away.
        var schema = "jobs_commit_" + Guid.NewGuid().ToString("N")[..8];
        var done = new Recorder<int>();
        var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) => { done.Add(job.Value); return Task.CompletedTask; }),
            driver: o => { o.FastWorkerCommits = fast; o.Schema = schema; }, worker: o => o.Concurrency = 8,
            // Sessions start with synchronous_commit on whatever the server default (test clusters often turn it off).
            dataSource: fixture.CreateDataSource(c => c.Options = "-c synchronous_commit=on"));
        try
        {
            await q.Driver.WaitUntilReadyAsync(default);
            await q.DataSource.ExecAsync($$"""
                CREATE TABLE {{schema}}.commit_modes (op text NOT NULL, setting text NOT NULL);
                CREATE FUNCTION {{schema}}.record_commit_mode() RETURNS trigger LANGUAGE plpgsql AS $f$
                BEGIN
                    INSERT INTO {{schema}}.commit_modes VALUES (CASE TG_OP WHEN 'DELETE' THEN 'complete' ELSE 'claim' END, current_setting('synchronous_commit'));
                    RETURN NULL;
                END $f$;
                CREATE TRIGGER claimed AFTER UPDATE ON {{schema}}.jobs FOR EACH ROW WHEN (NEW.state = {{(int)JobState.Processing}})
                    EXECUTE FUNCTION {{schema}}.record_commit_mode();
                CREATE TRIGGER completed AFTER DELETE ON {{schema}}.jobs FOR EACH ROW EXECUTE FUNCTION {{schema}}.record_commit_mode();
                """);
            await q.Queue.PushManyAsync(Enumerable.Range(0, jobs).Select(i => new ValueJob(i)));
            await q.StartAsync();
            await done.WaitForCountAsync(jobs);
            await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetCountsAsync()) == new JobCounts());
            Assert.Equal(Enumerable.Range(0, jobs), done.Items.Order());
            Assert.Equal(jobs, await q.DataSource.ScalarAsync($"SELECT count(*) FROM {schema}.commit_modes WHERE op = 'claim' AND setting = '{expected}'"));
            Assert.Equal(jobs, await q.DataSource.ScalarAsync($"SELECT count(*) FROM {schema}.commit_modes WHERE op = 'complete' AND setting = '{expected}'"));
            Assert.Equal(2L * jobs, await q.DataSource.ScalarAsync($"SELECT count(*) FROM {schema}.commit_modes"));
        }
        finally
        {
            await q.DisposeAsync();
            await using var cleanup = fixture.CreateDataSource();
            await cleanup.ExecAsync($"DROP SCHEMA {schema} CASCADE");
        }
    }
}
