using Npgsql;
using System.Collections.Concurrent;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>The seed's behavioural spec (swift-jobs-postgres JobsTests) ported, plus the gaps it left.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QueueTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Basic_all_jobs_run()
    {
        var seen = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (job, _, ct) =>
        {
            await Task.Delay(Random.Shared.Next(1, 20), ct);
            seen.Add(job.Value);
        }), worker: o => o.Concurrency = 1);
        await q.StartAsync();
        for (var i = 1; i <= 10; i++)
        {
            await q.Queue.PushAsync(new ValueJob(i));
        }

        await seen.WaitForCountAsync(10);
        Assert.Equal(Enumerable.Range(1, 10), seen.Items.Order());
    }

    [Fact]
    public async Task Multiple_workers_run_in_parallel_within_the_cap()
    {
        var running = 0;
        var max = 0;
        var done = new Recorder<int>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (job, _, ct) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref max, now);
            if (now >= 2)
            {
                gate.TrySetResult();
            }

            await gate.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
            Interlocked.Decrement(ref running);
            done.Add(job.Value);
        }), worker: o => o.Concurrency = 4);
        await q.Queue.PushManyAsync(Enumerable.Range(0, 10).Select(i => new ValueJob(i)));
        await q.StartAsync();
        await done.WaitForCountAsync(10);
        Assert.InRange(max, 2, 4);
    }

    [Fact]
    public async Task Delayed_job_runs_after_an_immediate_one_and_counts_as_pending()
    {
        var order = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            order.Add(job.Value);
            return Task.CompletedTask;
        }), worker: o => o.Concurrency = 1);
        // Delayed by an hour, then made due once the immediate job ran: nothing depends on how fast a loaded machine is.
        var delayed = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        await q.Queue.PushAsync(new ValueJob(5));
        Assert.Equal(2, (await q.Queue.GetCountsAsync()).Pending);
        var info = await q.Queue.GetJobAsync(delayed);
        Assert.True(info!.RunAt > DateTimeOffset.UtcNow.AddMinutes(50));
        await q.StartAsync();
        await order.WaitForCountAsync(1);
        Assert.Equal([5], order.Items);
        Assert.Equal(JobState.Pending, (await q.Queue.GetJobAsync(delayed))!.State);
        await MakeDueAsync(q, delayed);
        await order.WaitForCountAsync(2);
        Assert.Equal([5, 1], order.Items);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetCountsAsync()).Pending == 0);
    }

    [Fact]
    public async Task Priority_orders_due_jobs_highest_first()
    {
        var order = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            order.Add(job.Value);
            return Task.CompletedTask;
        }), worker: o => o.Concurrency = 1);
        await q.Queue.PushAsync(new ValueJob(20), new JobOptions { Priority = JobPriority.Lowest });
        await q.Queue.PushAsync(new ValueJob(21), new JobOptions { Priority = JobPriority.Normal });
        await q.Queue.PushAsync(new ValueJob(2025), new JobOptions { Priority = JobPriority.Highest });
        Assert.Equal(3, (await q.Queue.GetCountsAsync()).Pending);
        await q.StartAsync();
        await order.WaitForCountAsync(3);
        Assert.Equal([2025, 21, 20], order.Items);
    }

    [Fact]
    public async Task Delay_beats_priority()
    {
        var order = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            order.Add(job.Value);
            return Task.CompletedTask;
        }), worker: o => o.Concurrency = 1);
        await q.Queue.PushAsync(new ValueJob(20), new JobOptions { Priority = JobPriority.Lower });
        // An hour away (a one-second delay could pass before a slow first claim, which then took the higher priority first).
        var delayed = await q.Queue.PushAsync(new ValueJob(2025), new JobOptions { Priority = JobPriority.Higher, DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        await q.StartAsync();
        await order.WaitForCountAsync(1);
        Assert.Equal([20], order.Items);
        await MakeDueAsync(q, delayed);
        await order.WaitForCountAsync(2);
        Assert.Equal([20, 2025], order.Items);
    }

    /// <summary>Moves a delayed job's run time to now on the database clock (the clock claims read).</summary>
    private static Task MakeDueAsync(TestQueue q, JobId id) => q.DataSource.ExecAsync($"UPDATE jobs_test.jobs SET run_at = now() WHERE id = '{id}'");

    [Fact]
    public async Task Error_retry_count_then_failed_with_error_kept()
    {
        var runs = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, ctx, _) =>
        {
            runs.Add(ctx.Attempt);
            throw new InvalidOperationException("boom " + ctx.Attempt);
        }, o => o.RetryStrategy = JobRetryStrategy.ExponentialJitter(3, TimeSpan.FromMilliseconds(10))));
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await runs.WaitForCountAsync(3);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Failed);
        var counts = await q.Queue.GetCountsAsync();
        Assert.Equal(1, counts.Failed);
        Assert.Equal(0, counts.Pending + counts.Retrying);
        Assert.Equal([1, 2, 3], runs.Items);
        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.Equal(3, info.Attempts);
        Assert.Equal(3, info.MaxAttempts);
        Assert.Equal("System.InvalidOperationException: boom 3", info.LastError);
        Assert.NotNull(info.StartedAt);
        Assert.NotNull(info.FinishedAt);
        Assert.True(info.FinishedAt >= info.StartedAt);
        Assert.True(info.StartedAt >= info.QueuedAt);
        Assert.Equal(q.Worker.WorkerId, info.WorkerId);
        Assert.Equal("test.value", info.Name);
        Assert.Contains("\"value\": 1", info.Payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Error_retry_then_succeed()
    {
        var values = new Recorder<(int Value, int Attempt)>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, ctx, _) =>
        {
            values.Add((job.Value, ctx.Attempt));
            return ctx.Attempt == 1 ? throw new InvalidOperationException("first") : Task.CompletedTask;
        }));
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(731));
        await values.WaitForCountAsync(2);
        Assert.Equal([(731, 1), (731, 2)], values.Items);
        await TestExtensions.EventuallyAsync(async () => await q.Queue.GetJobAsync(id) is null, what: "completed job deleted by retention");
        var counts = await q.Queue.GetCountsAsync();
        Assert.Equal(0, counts.Failed + counts.Pending + counts.Retrying + counts.Processing);
    }

    [Fact]
    public async Task Retry_keeps_priority_and_stores_state_retrying()
    {
        var attempt1 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, ctx, _) =>
        {
            attempt1.TrySetResult();
            throw new InvalidOperationException("again");
        }, o => o.RetryStrategy = new FixedDelay(TimeSpan.FromMinutes(10))));
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { Priority = JobPriority.Highest });
        await attempt1.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Retrying);
        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.Equal(JobPriority.Highest, info.Priority);
        Assert.Equal(1, info.Attempts);
        Assert.Equal("System.InvalidOperationException: again", info.LastError);
        Assert.True(info.RunAt > DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Equal(1, (await q.Queue.GetCountsAsync()).Retrying);
    }

    [Fact]
    public async Task Payload_round_trips_as_readable_jsonb()
    {
        var got = new TaskCompletionSource<MessageJob>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((job, _, _) =>
        {
            got.TrySetResult(job);
            return Task.CompletedTask;
        }));
        var id = await q.Queue.PushAsync(new MessageJob(23, "Hello! ünïcødé \"quoted\""));
        Assert.Equal("Hello! ünïcødé \"quoted\"",
            await q.DataSource.CreateCommand($"SELECT payload->>'message' FROM jobs_test.jobs WHERE id = '{id}'").ExecuteScalarAsync());
        Assert.Equal("test.message", await q.DataSource.CreateCommand($"SELECT name FROM jobs_test.jobs WHERE id = '{id}'").ExecuteScalarAsync());
        await q.StartAsync();
        Assert.Equal(new MessageJob(23, "Hello! ünïcødé \"quoted\""), await got.Task.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Shutdown_timeout_releases_running_job_back_to_pending_without_counting_the_attempt()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, _, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }), worker: o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var counts = await q.Queue.GetCountsAsync();
        Assert.Equal(1, counts.Processing);
        Assert.Equal(0, counts.Pending);
        await q.StopAsync();
        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.Equal(JobState.Pending, info.State);
        Assert.Equal(0, info.Attempts);
    }

    [Fact]
    public async Task Decode_failure_fails_that_job_only()
    {
        var seen = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            seen.Add(job.Value);
            return Task.CompletedTask;
        }), worker: o => o.Concurrency = 1);
        // A row written by someone else with a payload of the wrong shape.
        var bad = Guid.CreateVersion7();
        await q.DataSource.ExecAsync(
            $"INSERT INTO jobs_test.jobs (id, queue_name, name, payload, max_attempts) VALUES ('{bad}', '{q.Queue.QueueName}', 'test.value', '{{\"value\": \"not a number\"}}', 4)");
        await q.Queue.PushAsync(new ValueJob(7));
        await q.StartAsync();
        await seen.WaitForCountAsync(1);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(new JobId(bad)))?.State == JobState.Failed);
        var info = (await q.Queue.GetJobAsync(new JobId(bad)))!;
        Assert.Contains("Cannot decode job 'test.value'", info.LastError, StringComparison.Ordinal);
        Assert.Equal(1, info.Attempts);
        Assert.Equal([7], seen.Items);
    }

    [Fact]
    public async Task Rolling_deploy_a_job_only_a_newer_version_handles_waits_for_it_instead_of_failing()
    {
        var seen = new Recorder<int>();
        var queueName = "rolling_" + Guid.NewGuid().ToString("N")[..8];
        await using var older = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            seen.Add(job.Value);
            return Task.CompletedTask;
        }), queueName: queueName);
        var orphan = await older.Queue.PushAsync(new OrphanJob(1));
        await older.Queue.PushAsync(new ValueJob(2));
        await older.StartAsync();
        await seen.WaitForCountAsync(1);
        await TestExtensions.EventuallyAsync(async () => (await older.Queue.GetCountsAsync()).Pending == 1, what: "only the orphan left");

        // The older worker never claimed it: still pending, attempt not used, visible by name.
        var info = (await older.Queue.GetJobAsync(orphan))!;
        Assert.Equal((JobState.Pending, 0, (string?)null), (info.State, info.Attempts, info.LastError));
        var byName = await older.Queue.GetCountsByNameAsync();
        Assert.Equal(1, byName.Single(n => n.Name == OrphanJob.JobName).Counts.Pending);

        // The newer version comes up and runs it.
        var newer = new Recorder<int>();
        await using var next = await TestQueue.CreateAsync(fixture, b => b.AddJob<OrphanJob>((job, _, _) =>
        {
            newer.Add(job.Value);
            return Task.CompletedTask;
        }), queueName: queueName);
        await next.StartAsync();
        await newer.WaitForCountAsync(1);
        Assert.Equal([1], newer.Items);
    }

    [Fact]
    public async Task Rerun_failed_jobs_with_cleanup_keeps_priority_and_resets_attempts()
    {
        var runs = new Recorder<int>();
        var failFirst = true;
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, ctx, _) =>
        {
            runs.Add(ctx.Attempt);
            if (Volatile.Read(ref failFirst))
            {
                throw new InvalidOperationException("fails once");
            }

            return Task.CompletedTask;
        }, o => o.RetryStrategy = JobRetryStrategy.None));
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { Priority = JobPriority.Higher });
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Failed);
        Volatile.Write(ref failFirst, false);
        await q.Queue.CleanupAsync(new CleanupOptions { FailedJobs = CleanupAction.Rerun });
        await runs.WaitForCountAsync(2);
        Assert.Equal([1, 1], runs.Items);
        await TestExtensions.EventuallyAsync(async () => await q.Queue.GetJobAsync(id) is null);
    }

    [Fact]
    public async Task Rerun_keeps_priority_and_clears_error()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => throw new InvalidOperationException("x"),
            o => o.RetryStrategy = JobRetryStrategy.None));
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { Priority = JobPriority.Lowest });
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Failed);
        await q.StopAsync();
        await q.Queue.CleanupAsync(new CleanupOptions { FailedJobs = CleanupAction.Rerun });
        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.Equal(JobState.Pending, info.State);
        Assert.Equal(0, info.Attempts);
        Assert.Null(info.LastError);
        Assert.Null(info.FinishedAt);
        Assert.Equal(JobPriority.Lowest, info.Priority);
    }

    [Fact]
    public async Task Two_queues_in_one_database_stay_isolated()
    {
        var a = new Recorder<int>();
        var b2 = new Recorder<int>();
        await using var q1 = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) => { a.Add(job.Value); return Task.CompletedTask; }),
            worker: o => o.Concurrency = 2);
        await using var q2 = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) => { b2.Add(job.Value); return Task.CompletedTask; }),
            worker: o => o.Concurrency = 2);
        await q1.Queue.PushManyAsync(Enumerable.Range(0, 100).Select(i => new ValueJob(i)));
        await q2.Queue.PushManyAsync(Enumerable.Range(1000, 100).Select(i => new ValueJob(i)));
        Assert.Equal(100, (await q1.Queue.GetCountsAsync()).Pending);
        await q1.StartAsync();
        await q2.StartAsync();
        await a.WaitForCountAsync(100);
        await b2.WaitForCountAsync(100);
        Assert.Equal(Enumerable.Range(0, 100), a.Items.Order());
        Assert.Equal(Enumerable.Range(1000, 100), b2.Items.Order());

        // Cleanup and cancel only touch their own queue.
        await q1.StopAsync();
        await q2.StopAsync();
        var other = await q2.Queue.PushAsync(new ValueJob(5));
        Assert.False(await q1.Queue.CancelAsync(other));
        Assert.Null(await q1.Queue.GetJobAsync(other));
        await q1.Queue.CleanupAsync(new CleanupOptions { PendingJobs = CleanupAction.Remove });
        Assert.Equal(1, (await q2.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task Pause_and_resume_keep_priority_and_run_time()
    {
        var order = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            order.Add(job.Value);
            return Task.CompletedTask;
        }), worker: o => o.Concurrency = 1);
        var paused = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { Priority = JobPriority.Lowest });
        await q.Queue.PushAsync(new ValueJob(2));
        var before = (await q.Queue.GetJobAsync(paused))!;
        Assert.True(await q.Queue.PauseAsync(paused));
        Assert.False(await q.Queue.PauseAsync(paused));
        var counts = await q.Queue.GetCountsAsync();
        Assert.Equal((1, 0, 1), (counts.Pending, counts.Processing, counts.Paused));
        await q.StartAsync();
        await order.WaitForCountAsync(1);
        Assert.Equal(JobState.Paused, (await q.Queue.GetJobAsync(paused))!.State);
        Assert.True(await q.Queue.ResumeAsync(paused));
        Assert.False(await q.Queue.ResumeAsync(paused));
        await order.WaitForCountAsync(2);
        Assert.Equal([2, 1], order.Items);

        // Resume restores the original priority and run time (checked on a job that is not picked up).
        await q.StopAsync();
        var delayed = await q.Queue.PushAsync(new ValueJob(3), new JobOptions { Priority = JobPriority.Higher, DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        var original = (await q.Queue.GetJobAsync(delayed))!;
        Assert.True(await q.Queue.PauseAsync(delayed));
        Assert.True(await q.Queue.ResumeAsync(delayed));
        var resumed = (await q.Queue.GetJobAsync(delayed))!;
        Assert.Equal(JobState.Pending, resumed.State);
        Assert.Equal(JobPriority.Higher, resumed.Priority);
        Assert.Equal(original.RunAt, resumed.RunAt);
        Assert.Equal(JobPriority.Lowest, before.Priority);
    }

    [Fact]
    public async Task Cancel_pending_job_never_runs()
    {
        var order = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            order.Add(job.Value);
            return Task.CompletedTask;
        }), worker: o => o.Concurrency = 1);
        var cancelled = await q.Queue.PushAsync(new ValueJob(42), new JobOptions { Priority = JobPriority.Lower });
        await q.Queue.PushAsync(new ValueJob(2025), new JobOptions { Priority = JobPriority.Highest });
        Assert.True(await q.Queue.CancelAsync(cancelled));
        Assert.False(await q.Queue.CancelAsync(cancelled));
        var counts = await q.Queue.GetCountsAsync();
        Assert.Equal(1, counts.Pending);
        Assert.Equal(0, counts.Cancelled);
        Assert.Null(await q.Queue.GetJobAsync(cancelled));
        await q.StartAsync();
        await order.WaitForCountAsync(1);
        var marker = await q.Queue.PushAsync(new ValueJob(3));
        await order.WaitForCountAsync(2);
        Assert.Equal([2025, 3], order.Items);
        Assert.NotEqual(default, marker);
    }

    [Fact]
    public async Task Cancel_paused_and_retrying_jobs()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask),
            driver: o => o.Retention = new RetentionPolicy { CancelledJobs = Retain.Yes });
        var paused = await q.Queue.PushAsync(new ValueJob(1));
        Assert.True(await q.Queue.PauseAsync(paused));
        Assert.True(await q.Queue.CancelAsync(paused));
        var info = (await q.Queue.GetJobAsync(paused))!;
        Assert.Equal(JobState.Cancelled, info.State);
        Assert.NotNull(info.FinishedAt);
        Assert.False(await q.Queue.ResumeAsync(paused));
        Assert.False(await q.Queue.CancelAsync(JobId.New()));
    }

    [Fact]
    public async Task Cancel_running_job_cancels_the_handler_token_and_marks_it_cancelled()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tokenCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, _, ct) =>
        {
            using var reg = ct.Register(() => tokenCancelled.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }), driver: o => o.Retention = new RetentionPolicy { CancelledJobs = Retain.Yes },
            worker: o => o.LeaseDuration = TimeSpan.FromMinutes(5));
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await q.Queue.CancelAsync(id));
        // Lease renewal is every 100 s here, so the NOTIFY is what cancels the token.
        await tokenCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Cancelled);
        Assert.Equal("Cancelled while running.", (await q.Queue.GetJobAsync(id))!.LastError);
    }

    [Fact]
    public async Task Cancel_running_job_in_poll_only_mode_is_seen_at_lease_renewal()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, _, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }), driver: o => o.UseListenNotify = false, worker: o => o.LeaseDuration = TimeSpan.FromSeconds(1));
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Cancel from another driver instance (another node): no NOTIFY, so only RenewLeases reports it.
        await using var other = await TestQueue.CreateAsync(fixture, b => { }, driver: o => o.UseListenNotify = false, queueName: q.Queue.QueueName);
        Assert.True(await other.Queue.CancelAsync(id));
        await TestExtensions.EventuallyAsync(async () => await q.Queue.GetJobAsync(id) is null, what: "cancelled job deleted by retention");
    }

    [Fact]
    public async Task Completed_retention_and_cleanup_with_max_age()
    {
        var done = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) => { done.Add(job.Value); return Task.CompletedTask; }),
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes });
        await q.StartAsync();
        var ids = await q.Queue.PushManyAsync([new ValueJob(1), new ValueJob(2), new ValueJob(3)]);
        await done.WaitForCountAsync(3);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetCountsAsync()).Completed == 3);
        var info = (await q.Queue.GetJobAsync(ids[0]))!;
        Assert.Equal(JobState.Completed, info.State);
        Assert.Equal(1, info.Attempts);
        Assert.NotNull(info.FinishedAt);

        await q.Queue.CleanupAsync(new CleanupOptions { CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromHours(1)) });
        Assert.Equal(3, (await q.Queue.GetCountsAsync()).Completed);
        // Age one job, then only that one is old enough.
        await q.DataSource.ExecAsync($"UPDATE jobs_test.jobs SET updated_at = now() - interval '2 hours' WHERE id = '{ids[0]}'");
        await q.Queue.CleanupAsync(new CleanupOptions { CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromHours(1)) });
        Assert.Equal(2, (await q.Queue.GetCountsAsync()).Completed);
        Assert.Null(await q.Queue.GetJobAsync(ids[0]));
        await q.Queue.CleanupAsync(new CleanupOptions { CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.Zero) });
        Assert.Equal(0, (await q.Queue.GetCountsAsync()).Completed);
    }

    [Fact]
    public async Task Cancelled_and_paused_retention_cleanup()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask),
            driver: o => o.Retention = new RetentionPolicy { CancelledJobs = Retain.Yes });
        var ids = await q.Queue.PushManyAsync([new ValueJob(1), new ValueJob(2), new ValueJob(3), new ValueJob(4)]);
        Assert.True(await q.Queue.CancelAsync(ids[0]));
        Assert.True(await q.Queue.CancelAsync(ids[1]));
        Assert.True(await q.Queue.PauseAsync(ids[2]));
        Assert.True(await q.Queue.PauseAsync(ids[3]));
        var counts = await q.Queue.GetCountsAsync();
        Assert.Equal((2, 2, 0), (counts.Cancelled, counts.Paused, counts.Pending));
        await q.Queue.CleanupAsync(new CleanupOptions { CancelledJobs = CleanupAction.RemoveOlderThan(TimeSpan.Zero) });
        counts = await q.Queue.GetCountsAsync();
        Assert.Equal((0, 2), (counts.Cancelled, counts.Paused));
        await q.Queue.CleanupAsync(new CleanupOptions { PausedJobs = CleanupAction.RemoveOlderThan(TimeSpan.Zero) });
        Assert.Equal(0, (await q.Queue.GetCountsAsync()).Paused);
    }

    [Fact]
    public async Task Cleanup_processing_jobs_after_a_direct_claim()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        var first = await q.Queue.PushAsync(new ValueJob(1));
        var claimed = await q.Driver.ClaimAsync(new JobClaimRequest("w1", 1, TimeSpan.FromMinutes(1)), CancellationToken.None);
        Assert.Equal(first, Assert.Single(claimed).Id);
        await q.Queue.PushAsync(new ValueJob(2));
        Assert.Single(await q.Driver.ClaimAsync(new JobClaimRequest("w1", 5, TimeSpan.FromMinutes(1)), CancellationToken.None));
        Assert.Equal(2, (await q.Queue.GetCountsAsync()).Processing);
        await q.Queue.CleanupAsync(new CleanupOptions { ProcessingJobs = CleanupAction.Remove });
        // Their worker (w1) is alive: they stay processing until their outcomes, which delete them.
        Assert.Equal(2, (await q.Queue.GetCountsAsync()).Processing);
        await q.DataSource.ExecAsync($"UPDATE jobs_test.jobs SET lease_expires_at = now() - interval '1 second' WHERE queue_name = '{q.Queue.QueueName}'");
        await q.Queue.CleanupAsync(new CleanupOptions { ProcessingJobs = CleanupAction.Remove }); // their leases ended: deleted at once
        Assert.Equal(0, (await q.Queue.GetCountsAsync()).Processing);
    }

    [Fact]
    public async Task Cleanup_per_action_in_one_pass()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => { },
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes });
        var ids = await q.Queue.PushManyAsync(Enumerable.Range(0, 6).Select(i => new ValueJob(i)), new JobOptions { Priority = JobPriority.Higher });
        var claimed = await q.Driver.ClaimAsync(new JobClaimRequest("w", 3, TimeSpan.FromMinutes(1)), CancellationToken.None);
        Assert.Equal(3, claimed.Count);
        await q.Driver.CompleteAsync("w", [
            new JobOutcome(claimed[0].Id, JobOutcomeKind.Completed, 1, LeaseToken: claimed[0].LeaseToken),
            new JobOutcome(claimed[1].Id, JobOutcomeKind.Failed, 1, Error: "E: failed", LeaseToken: claimed[1].LeaseToken),
            new JobOutcome(claimed[2].Id, JobOutcomeKind.Cancelled, 1, LeaseToken: claimed[2].LeaseToken)], CancellationToken.None);
        var waiting = ids.Except(claimed.Select(c => c.Id)).ToArray();
        Assert.True(await q.Queue.PauseAsync(waiting[0]));
        var counts = await q.Queue.GetCountsAsync();
        Assert.Equal((2, 1, 1, 1, 1), (counts.Pending, counts.Paused, counts.Completed, counts.Failed, counts.Cancelled));

        await q.Queue.CleanupAsync(new CleanupOptions
        {
            CompletedJobs = CleanupAction.Remove,
            FailedJobs = CleanupAction.Rerun,
            CancelledJobs = CleanupAction.DoNothing,
            PausedJobs = CleanupAction.Rerun,
        });
        counts = await q.Queue.GetCountsAsync();
        Assert.Equal((4, 0, 0, 0, 1), (counts.Pending, counts.Paused, counts.Completed, counts.Failed, counts.Cancelled));
        var rerun = (await q.Queue.GetJobAsync(claimed[1].Id))!;
        Assert.Equal((JobState.Pending, 0, (string?)null, JobPriority.Higher), (rerun.State, rerun.Attempts, rerun.LastError, rerun.Priority));
    }

    /// <summary>
    /// Another transaction (another cleanup, the scheduled cleanup job, a user's DELETE) deletes exactly the rows the
    /// cleanup's first batch picks, and commits while that batch waits on their row locks: the batch then finds them gone
    /// and changes nothing. The pass goes on to the rows beyond that batch (it ended there, returning normally, and left
    /// row 5,001 behind), and reports only the rows it deleted itself.
    /// </summary>
    [Theory]
    [InlineData(JobState.Completed, false)]
    [InlineData(JobState.Failed, true)]
    [InlineData(JobState.Pending, false)]
    [InlineData(JobState.Pending, true)]
    public async Task Cleanup_goes_on_past_a_batch_whose_rows_a_concurrent_transaction_took_first(JobState state, bool rerun)
    {
        var application = "cleanup-race-" + Guid.NewGuid().ToString("N")[..8];
        await using var q = await TestQueue.CreateAsync(fixture, b => { }, dataSource: fixture.CreateDataSource(c => c.ApplicationName = application));
        await using var observer = fixture.CreateDataSource();
        var queue = q.Queue.QueueName;
        var runnable = state is JobState.Pending or JobState.Retrying;
        // One job more than a batch, each last changed at its own time before this test: the order a batch picks in is total.
        await q.Queue.PushManyAsync(Enumerable.Range(0, CleanupSql.BatchSize + 1).Select(i => new ValueJob(i)));
        await q.DataSource.ExecAsync($"""
            UPDATE jobs_test.jobs j SET state = {(int)state}, updated_at = now() - interval '1 hour' - n.n * interval '1 second'
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM jobs_test.jobs WHERE queue_name = '{queue}') n
            WHERE j.id = n.id
            """);

        // The rows the first batch picks (CleanupSql: the same order, the same limit), deleted by a transaction left open.
        await using var other = await observer.OpenConnectionAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand($"""
            DELETE FROM jobs_test.jobs WHERE id IN (
                SELECT id FROM jobs_test.jobs WHERE queue_name = '{queue}'
                ORDER BY {(runnable ? "priority DESC, run_at, id" : "updated_at")} LIMIT {CleanupSql.BatchSize})
            """, other, transaction))
        {
            Assert.Equal(CleanupSql.BatchSize, await take.ExecuteNonQueryAsync());
        }

        var action = rerun ? CleanupAction.Rerun : CleanupAction.Remove;
        var cleanup = q.Driver.CleanupCountingAsync(
            state == JobState.Pending ? new CleanupOptions { PendingJobs = action }
            : state == JobState.Failed ? new CleanupOptions { FailedJobs = action }
            : new CleanupOptions { CompletedJobs = action }, CancellationToken.None);
        await TestExtensions.EventuallyAsync(async () => cleanup.IsCompleted || await observer.ScalarAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{application}' AND wait_event_type = 'Lock'") > 0,
            what: "the cleanup's first batch waiting on the rows the open transaction deleted");
        Assert.False(cleanup.IsCompleted, "the cleanup ended without waiting on the rows the open transaction deleted");
        await transaction.CommitAsync();
        var deleted = await cleanup.WaitAsync(TimeSpan.FromSeconds(60));

        var left = await observer.ScalarAsync(
            $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state = {(int)state} AND updated_at < now() - interval '1 hour'");
        Assert.True(left == 0, $"{left} {state} job(s) the cleanup should have {(rerun ? "put back" : "deleted")} remain after it returned");
        Assert.Equal(rerun ? 0 : 1, deleted);
        Assert.Equal(rerun ? 1 : 0, await observer.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}'"));
    }

    [Fact]
    public async Task Counts_cover_every_state()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => { },
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes });
        var ids = await q.Queue.PushManyAsync(Enumerable.Range(0, 8).Select(i => new ValueJob(i)));
        var c = await q.Driver.ClaimAsync(new JobClaimRequest("w", 5, TimeSpan.FromMinutes(1)), CancellationToken.None);
        await q.Driver.CompleteAsync("w", [
            new JobOutcome(c[0].Id, JobOutcomeKind.Completed, 1, LeaseToken: c[0].LeaseToken),
            new JobOutcome(c[1].Id, JobOutcomeKind.Failed, 1, Error: "x", LeaseToken: c[1].LeaseToken),
            new JobOutcome(c[2].Id, JobOutcomeKind.Cancelled, 1, LeaseToken: c[2].LeaseToken),
            new JobOutcome(c[3].Id, JobOutcomeKind.Retry, 1, TimeSpan.FromHours(1), 2, "y", LeaseToken: c[3].LeaseToken)], CancellationToken.None);
        var waiting = ids.Except(c.Select(x => x.Id)).ToArray();
        Assert.True(await q.Queue.PauseAsync(waiting[0]));
        var counts = await q.Queue.GetCountsAsync();
        Assert.Equal(new JobCounts { Pending = 2, Processing = 1, Retrying = 1, Completed = 1, Failed = 1, Cancelled = 1, Paused = 1 }, counts);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private sealed class FixedDelay(TimeSpan delay) : IJobRetryStrategy
    {
        public int MaxAttempts => 5;
        public bool ShouldRetry(int attempt, Exception error) => attempt < MaxAttempts;
        public TimeSpan GetDelay(int attempt, Exception error) => delay;
    }
}
