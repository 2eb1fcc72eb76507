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

    [Fact]
    public async Task Claim_orders_by_priority_then_run_at_then_id_and_sets_lease_and_attempt()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        var d = q.Driver;
        var now = DateTimeOffset.UtcNow;
        var low = Record(1, JobPriority.Lowest, now.AddSeconds(-30));
        var high = Record(2, JobPriority.Highest);
        var normalOld = Record(3, JobPriority.Normal, now.AddSeconds(-20));
        var normalNew = Record(4, JobPriority.Normal, now.AddSeconds(-10));
        var future = Record(5, JobPriority.Highest, now.AddHours(1));
        await d.PushAsync([low, high, normalOld, normalNew, future], null, default);
        var claimed = await d.ClaimAsync(new JobClaimRequest("w1", 10, Minute), default);
        Assert.Equal([high.Id, normalOld.Id, normalNew.Id, low.Id], claimed.Select(c => c.Id));
        Assert.All(claimed, c => Assert.Equal(1, c.Attempt));
        var info = (await d.GetJobAsync(high.Id, default))!;
        Assert.Equal((JobState.Processing, "w1", 1), (info.State, info.WorkerId, info.Attempts));
        var lease = await q.DataSource.ScalarAsync(
            $"SELECT extract(epoch FROM lease_expires_at - now())::bigint FROM jobs_test.jobs WHERE id = '{high.Id}'");
        Assert.InRange(lease, 50, 61);
        Assert.Empty(await d.ClaimAsync(new JobClaimRequest("w2", 10, Minute), default));
    }

    [Fact]
    public async Task Claimed_job_carries_headers_and_times()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        var record = Record(1, headers: new Dictionary<string, string> { ["traceparent"] = "00-abc-def-01", [JobHeaders.ScheduledAt] = "2026-01-01T00:00:00Z" });
        await q.Driver.PushAsync([record], null, default);
        var job = Assert.Single(await q.Driver.ClaimAsync(new JobClaimRequest("w", 1, Minute), default));
        Assert.Equal("00-abc-def-01", job.Headers!["traceparent"]);
        Assert.Equal("2026-01-01T00:00:00Z", job.Headers[JobHeaders.ScheduledAt]);
        Assert.Equal(4, job.MaxAttempts);
        Assert.True(job.QueuedAt <= job.RunAt.AddSeconds(1));
        Assert.Equal("{\"value\": 1}", Encoding.UTF8.GetString(job.Payload.Span));
    }

    [Fact]
    public async Task Never_the_same_job_to_two_concurrent_claimers()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        await q.Driver.PushAsync(Enumerable.Range(0, 500).Select(i => Record(i)).ToList(), null, default);
        var all = await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var mine = new List<JobId>();
            while (true)
            {
                var batch = await q.Driver.ClaimAsync(new JobClaimRequest("w" + w, 7, Minute), default);
                if (batch.Count == 0)
                {
                    return mine;
                }

                mine.AddRange(batch.Select(b => b.Id));
            }
        })));
        var ids = all.SelectMany(x => x).ToList();
        Assert.Equal(500, ids.Count);
        Assert.Equal(500, ids.Distinct().Count());
    }

    [Fact]
    public async Task Completion_applies_only_to_the_owning_worker_and_attempt()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { },
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes });
        var r = Record(1);
        await q.Driver.PushAsync([r], null, default);
        var job = Assert.Single(await q.Driver.ClaimAsync(new JobClaimRequest("owner", 1, Minute), default));
        await q.Driver.CompleteAsync("intruder", [new JobOutcome(job.Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Equal(JobState.Processing, (await q.Driver.GetJobAsync(r.Id, default))!.State);
        await q.Driver.CompleteAsync("owner", [new JobOutcome(job.Id, JobOutcomeKind.Completed, 2)], default);
        Assert.Equal(JobState.Processing, (await q.Driver.GetJobAsync(r.Id, default))!.State);
        await q.Driver.CompleteAsync("owner", [new JobOutcome(job.Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Equal(JobState.Completed, (await q.Driver.GetJobAsync(r.Id, default))!.State);
        // A second report (retried after a lost reply) changes nothing.
        await q.Driver.CompleteAsync("owner", [new JobOutcome(job.Id, JobOutcomeKind.Failed, 1, Error: "late")], default);
        var info = (await q.Driver.GetJobAsync(r.Id, default))!;
        Assert.Equal(JobState.Completed, info.State);
        Assert.Null(info.LastError);
    }

    [Fact]
    public async Task Release_and_reschedule_adjust_attempts_and_keep_priority()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        var a = Record(1, JobPriority.Higher);
        var b = Record(2, JobPriority.Lower);
        await q.Driver.PushAsync([a, b], null, default);
        var claimed = await q.Driver.ClaimAsync(new JobClaimRequest("w", 2, Minute), default);
        await q.Driver.CompleteAsync("w", [
            new JobOutcome(a.Id, JobOutcomeKind.Release, 1),
            new JobOutcome(b.Id, JobOutcomeKind.Reschedule, 1, TimeSpan.FromHours(1), NextAttempt: 1)], default);
        var ia = (await q.Driver.GetJobAsync(a.Id, default))!;
        var ib = (await q.Driver.GetJobAsync(b.Id, default))!;
        Assert.Equal((JobState.Pending, 0, JobPriority.Higher), (ia.State, ia.Attempts, ia.Priority));
        Assert.Equal((JobState.Pending, 0, JobPriority.Lower), (ib.State, ib.Attempts, ib.Priority));
        Assert.True(ib.RunAt > DateTimeOffset.UtcNow.AddMinutes(50));
        Assert.Equal(2, claimed.Count);
        // Released job is due again at once; the rescheduled one is not.
        var again = Assert.Single(await q.Driver.ClaimAsync(new JobClaimRequest("w", 5, Minute), default));
        Assert.Equal((a.Id, 1), (again.Id, again.Attempt));
    }

    [Fact]
    public async Task Renew_leases_reports_lost_and_cancel_requested_jobs()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        var records = Enumerable.Range(0, 3).Select(i => Record(i)).ToList();
        await q.Driver.PushAsync(records, null, default);
        var claimed = await q.Driver.ClaimAsync(new JobClaimRequest("w", 3, TimeSpan.FromSeconds(5)), default);
        Assert.Equal(3, claimed.Count);
        Assert.Same(LeaseRenewalResult.None, await q.Driver.RenewLeasesAsync("w", claimed.Select(c => c.Id).ToList(), Minute, default));
        var lease = await q.DataSource.ScalarAsync($"SELECT extract(epoch FROM lease_expires_at - now())::bigint FROM jobs_test.jobs WHERE id = '{records[0].Id}'");
        Assert.InRange(lease, 50, 61);

        Assert.True(await q.Driver.CancelAsync(records[1].Id, default));
        await q.Driver.CompleteAsync("w", [new JobOutcome(records[2].Id, JobOutcomeKind.Completed, 1)], default);
        var unknown = JobId.New();
        var result = await q.Driver.RenewLeasesAsync("w", [records[0].Id, records[1].Id, records[2].Id, unknown], Minute, default);
        Assert.Equal(new[] { records[2].Id, unknown }.OrderBy(i => i.Value), result.Lost.OrderBy(i => i.Value));
        Assert.Equal([records[1].Id], result.CancelRequested);
        var other = await q.Driver.RenewLeasesAsync("someone-else", [records[0].Id], Minute, default);
        Assert.Equal([records[0].Id], other.Lost);
    }

    [Fact]
    public async Task Rescue_requeues_expired_leases_keeping_priority_or_fails_when_attempts_are_used_up()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { },
            driver: o => o.Retention = new RetentionPolicy { FailedJobs = Retain.Yes });
        var retry = Record(1, JobPriority.Highest, maxAttempts: 3);
        var last = Record(2, JobPriority.Lowest, maxAttempts: 1);
        var live = Record(3);
        await q.Driver.PushAsync([retry, last], null, default);
        Assert.Equal(2, (await q.Driver.ClaimAsync(new JobClaimRequest("dead", 5, TimeSpan.FromMilliseconds(1)), default)).Count);
        await q.Driver.PushAsync([live], null, default);
        Assert.Single(await q.Driver.ClaimAsync(new JobClaimRequest("alive", 5, Minute), default));
        await Task.Delay(20);

        Assert.Equal(2, await q.Driver.RescueExpiredLeasesAsync(default));
        var r = (await q.Driver.GetJobAsync(retry.Id, default))!;
        Assert.Equal((JobState.Retrying, 1, JobPriority.Highest), (r.State, r.Attempts, r.Priority));
        Assert.Contains("LeaseExpired: worker dead stopped renewing the lease of attempt 1", r.LastError, StringComparison.Ordinal);
        var l = (await q.Driver.GetJobAsync(last.Id, default))!;
        Assert.Equal(JobState.Failed, l.State);
        Assert.NotNull(l.FinishedAt);
        Assert.Equal(JobState.Processing, (await q.Driver.GetJobAsync(live.Id, default))!.State);

        // The dead worker's late report is ignored; the rescued job runs again as attempt 2.
        await q.Driver.CompleteAsync("dead", [new JobOutcome(retry.Id, JobOutcomeKind.Completed, 1)], default);
        var again = Assert.Single(await q.Driver.ClaimAsync(new JobClaimRequest("w2", 5, Minute), default));
        Assert.Equal((retry.Id, 2), (again.Id, again.Attempt));
        Assert.Equal(0, await q.Driver.RescueExpiredLeasesAsync(default));
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
        await q.Driver.WaitForWorkAsync(new CancellationTokenSource(TimeSpan.FromSeconds(1)).Token); // listener is up (first call starts it)
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
            .Replace("$3", "'w'", StringComparison.Ordinal).Replace("$4", "1000", StringComparison.Ordinal);
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

    [Fact]
    public async Task Fast_worker_commits_drain_the_queue()
    {
        var done = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) => { done.Add(job.Value); return Task.CompletedTask; }),
            driver: o => o.FastWorkerCommits = true, worker: o => o.Concurrency = 8);
        await q.Queue.PushManyAsync(Enumerable.Range(0, 300).Select(i => new ValueJob(i)));
        await q.StartAsync();
        await done.WaitForCountAsync(300);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetCountsAsync()) == new JobCounts());
        Assert.Equal(Enumerable.Range(0, 300), done.Items.Order());
    }
}
