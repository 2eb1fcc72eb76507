using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Tests;

public sealed class WorkerTests
{
    private static readonly IJobRetryStrategy FastRetry = JobRetryStrategy.ExponentialJitter(maxAttempts: 3, maxBackoff: TimeSpan.FromMilliseconds(1));

    [Fact]
    public async Task Runs_every_pushed_job_once_with_its_payload()
    {
        var log = new RunLog();
        await using var host = await TestHost.Create(j => j
            .AddJob<ValueJob>((job, ctx, ct) => { log.Add(job.Value, ctx.Attempt); return Task.CompletedTask; })
            .AddWorkers(o => o.Concurrency = 4)).StartAsync();

        for (var i = 1; i <= 10; i++)
        {
            await host.Queue.PushAsync(new ValueJob(i));
        }

        for (var i = 1; i <= 10; i++)
        {
            await log.WaitForAsync(i);
        }

        Assert.Equal(Enumerable.Range(1, 10), log.Values.Order());
        Assert.All(log.Runs, r => Assert.Equal(1, r.Attempt));
    }

    [Fact]
    public async Task Never_runs_more_jobs_at_once_than_the_concurrency_and_does_run_in_parallel()
    {
        var running = 0;
        var peak = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new CountdownEvent(4);
        var done = new CountdownEvent(12);
        await using var host = await TestHost.Create(j => j
            .AddJob<ValueJob>(async (job, ctx, ct) =>
            {
                var now = Interlocked.Increment(ref running);
                InterlockedMax(ref peak, now);
                if (!started.IsSet)
                {
                    started.Signal();
                }

                await gate.Task;
                Interlocked.Decrement(ref running);
                done.Signal();
            })
            .AddWorkers(o => o.Concurrency = 4)).StartAsync();

        await host.Queue.PushManyAsync(Enumerable.Range(1, 12).Select(i => new ValueJob(i)));
        Assert.True(started.Wait(TestHost.Timeout));
        gate.SetResult();
        Assert.True(done.Wait(TestHost.Timeout));
        Assert.Equal(4, peak);
    }

    [Fact]
    public async Task Prefetched_jobs_wait_in_the_buffer_respect_concurrency_and_are_released_at_shutdown()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        var host = TestHost.Create(j => j
            .AddJob<ValueJob>(async (job, ctx, ct) =>
            {
                Interlocked.Increment(ref runs);
                started.TrySetResult();
                await release.Task;
            })
            .AddWorkers(o => { o.Concurrency = 1; o.Prefetch = 3; o.ShutdownTimeout = TimeSpan.FromMinutes(1); }),
            driver: d => d.Retention = new RetentionPolicy { CancelledJobs = Retain.Yes });
        await using var _ = host;
        var ids = await host.Queue.PushManyAsync(Enumerable.Range(1, 6).Select(i => new ValueJob(i)));
        await host.StartAsync();
        await started.Task.WaitAsync(TestHost.Timeout);
        await WaitUntil(async () => (await host.Queue.GetCountsAsync()).Processing == 4); // 1 running + 3 buffered

        Assert.True(await host.Queue.CancelAsync(ids[2]));                                // a buffered job
        var stop = host.Worker.StopAsync(CancellationToken.None);
        release.SetResult();
        await stop.WaitAsync(TestHost.Timeout);

        Assert.Equal(1, runs);
        Assert.Equal(JobState.Cancelled, (await host.Queue.GetJobAsync(ids[2]))!.State);
        foreach (var id in new[] { ids[1], ids[3], ids[4], ids[5] })
        {
            var info = await host.Queue.GetJobAsync(id);
            Assert.Equal((JobState.Pending, 0), (info!.State, info.Attempts));
        }
    }

    [Fact]
    public async Task Higher_priority_runs_first_and_equal_priority_runs_in_push_order()
    {
        var log = new RunLog();
        await using var host = TestHost.Create(j => j
            .AddJob<ValueJob>((job, ctx, ct) => { log.Add(job.Value, ctx.Attempt); return Task.CompletedTask; })
            .AddWorkers(o => o.Concurrency = 1));

        await host.Queue.PushAsync(new ValueJob(1), new JobOptions { Priority = JobPriority.Lowest });
        await host.Queue.PushAsync(new ValueJob(2));
        await host.Queue.PushAsync(new ValueJob(3), new JobOptions { Priority = JobPriority.Highest });
        await host.Queue.PushAsync(new ValueJob(4));
        await host.Queue.PushAsync(new ValueJob(5), new JobOptions { Priority = JobPriority.Higher });
        await host.StartAsync();
        await log.WaitForAsync(1);

        Assert.Equal([3, 5, 2, 4, 1], log.Values);
    }

    [Fact]
    public async Task A_delayed_job_waits_for_its_time_even_with_higher_priority()
    {
        var time = FakeTime.Create();
        var log = new RunLog();
        await using var host = TestHost.Create(j => j
            .AddJob<ValueJob>((job, ctx, ct) => { log.Add(job.Value, ctx.Attempt); return Task.CompletedTask; })
            .AddWorkers(o => o.Concurrency = 1), time);

        var delayed = await host.Queue.PushAsync(new ValueJob(2025),
            new JobOptions { Priority = JobPriority.Highest, DelayUntil = time.GetUtcNow().AddMinutes(2) });
        var first = await host.Queue.PushAsync(new ValueJob(20), new JobOptions { Priority = JobPriority.Lower });
        Assert.Equal(2, (await host.Queue.GetCountsAsync()).Pending);

        await host.StartAsync();
        await log.WaitForAsync(20);
        // Let the completion be recorded before moving the clock (a jump past the lease would look like a dead worker).
        await WaitUntil(async () => await host.Queue.GetJobAsync(first) is null);
        Assert.Equal(JobState.Pending, (await host.Queue.GetJobAsync(delayed))!.State);
        Assert.Equal([20], log.Values);

        time.Advance(TimeSpan.FromMinutes(2));
        await log.WaitForAsync(2025);
        Assert.Equal([20, 2025], log.Values);
    }

    [Fact]
    public async Task A_failing_job_is_retried_and_then_succeeds_with_its_payload_intact()
    {
        var log = new RunLog();
        await using var host = await TestHost.Create(j => j
            .ConfigureQueue(q => q.DefaultRetryStrategy = FastRetry)
            .AddJob<ValueJob>((job, ctx, ct) =>
            {
                log.Add(job.Value, ctx.Attempt);
                return ctx.Attempt == 1 ? throw new InvalidOperationException("first attempt fails") : Task.CompletedTask;
            })
            .AddWorkers()).StartAsync();

        var id = await host.Queue.PushAsync(new ValueJob(731));
        await WaitUntil(() => log.Runs.Count == 2);
        Assert.Equal([(731, 1), (731, 2)], log.Runs);
        await WaitUntil(async () => await host.Queue.GetJobAsync(id) is null); // completed jobs are not retained by default
    }

    [Fact]
    public async Task A_job_that_always_fails_runs_max_attempts_times_then_is_failed_with_its_error()
    {
        var log = new RunLog();
        await using var host = await TestHost.Create(j => j
            .ConfigureQueue(q => q.DefaultRetryStrategy = FastRetry)
            .AddJob<ValueJob>((job, ctx, ct) =>
            {
                log.Add(job.Value, ctx.Attempt);
                throw new InvalidOperationException($"boom {ctx.Attempt}");
            })
            .AddWorkers()).StartAsync();

        var id = await host.Queue.PushAsync(new ValueJob(1));
        var info = await host.WaitForStateAsync(id, JobState.Failed);

        Assert.Equal([1, 2, 3], log.Runs.Select(r => r.Attempt));
        Assert.Equal(3, info.Attempts);
        Assert.Equal("System.InvalidOperationException: boom 3", info.LastError);
        Assert.NotNull(info.FinishedAt);
        var counts = await host.Queue.GetCountsAsync();
        Assert.Equal((1, 0, 0), (counts.Failed, counts.Pending, counts.Retrying));
    }

    [Fact]
    public async Task The_job_attribute_limit_and_a_per_registration_strategy_decide_attempts()
    {
        var limited = new RunLog();
        var custom = new RunLog();
        await using var host = await TestHost.Create(j => j
            .ConfigureQueue(q => q.DefaultRetryStrategy = JobRetryStrategy.ExponentialJitter(maxBackoff: TimeSpan.FromMilliseconds(1)))
            .AddJob<LimitedJob>((job, ctx, ct) => { limited.Add(job.Value, ctx.Attempt); throw new InvalidOperationException(); })
            .AddJob<ValueJob>((job, ctx, ct) => { custom.Add(job.Value, ctx.Attempt); throw new TimeZoneNotFoundException(); },
                o => o.RetryStrategy = new OnlyRetry<ArgumentException>(5))
            .AddWorkers()).StartAsync();

        var a = await host.Queue.PushAsync(new LimitedJob(1));
        var b = await host.Queue.PushAsync(new ValueJob(2));
        await host.WaitForStateAsync(a, JobState.Failed);
        await host.WaitForStateAsync(b, JobState.Failed);

        Assert.Equal(2, limited.Runs.Count); // [Job(MaxAttempts = 2)]
        Assert.Single(custom.Runs);          // the strategy does not retry this exception type
        Assert.Equal(5, (await host.Queue.GetJobAsync(b))!.MaxAttempts);
    }

    [Fact]
    public async Task A_retry_strategy_that_throws_falls_back_to_the_queue_default_instead_of_leaving_the_job_processing()
    {
        var log = new RunLog();
        await using var host = await TestHost.Create(j => j
            .ConfigureQueue(q => q.DefaultRetryStrategy = JobRetryStrategy.ExponentialJitter(maxBackoff: TimeSpan.FromMilliseconds(1)))
            .AddJob<ValueJob>((job, ctx, ct) =>
            {
                log.Add(job.Value, ctx.Attempt);
                return ctx.Attempt == 1 ? throw new InvalidOperationException("first attempt") : Task.CompletedTask;
            }, o => o.RetryStrategy = new ThrowingRetry())
            .AddWorkers()).StartAsync();

        var id = await host.Queue.PushAsync(new ValueJob(7));
        await WaitUntil(() => log.Runs.Count == 2);
        Assert.Equal([1, 2], log.Runs.Select(r => r.Attempt));
        await WaitUntil(async () => await host.Queue.GetJobAsync(id) is null); // completed (and, by the default retention, removed)
    }

    [Fact]
    public async Task A_timeout_cancels_the_handler_and_counts_as_a_failed_attempt()
    {
        var log = new RunLog();
        await using var host = await TestHost.Create(j => j
            .AddJob<ValueJob>(async (job, ctx, ct) =>
            {
                log.Add(job.Value, ctx.Attempt);
                if (ctx.Attempt == 1)
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
            }, o =>
            {
                o.Timeout = TimeSpan.FromMilliseconds(50);
                o.RetryStrategy = FastRetry;
            })
            .AddWorkers()).StartAsync();

        await host.Queue.PushAsync(new ValueJob(9));
        await WaitUntil(() => log.Runs.Count == 2);
        Assert.Equal([1, 2], log.Runs.Select(r => r.Attempt));
    }

    [Fact]
    public async Task A_timeout_on_the_last_attempt_fails_the_job_with_a_timeout_error()
    {
        await using var host = await TestHost.Create(j => j
            .AddJob<ValueJob>((job, ctx, ct) => Task.Delay(Timeout.Infinite, ct), o =>
            {
                o.Timeout = TimeSpan.FromMilliseconds(20);
                o.RetryStrategy = JobRetryStrategy.None;
            })
            .AddWorkers()).StartAsync();

        var id = await host.Queue.PushAsync(new ValueJob(1));
        var info = await host.WaitForStateAsync(id, JobState.Failed);
        Assert.StartsWith("Jobs.Sdk.JobTimeoutException: Job 'test.value' timed out", info.LastError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RescheduleAttempts.Keep, new[] { 1, 1, 1 })]
    [InlineData(RescheduleAttempts.Increment, new[] { 1, 2, 3 })]
    [InlineData(RescheduleAttempts.Reset, new[] { 1, 1, 1 })]
    public async Task A_handler_can_ask_to_run_again_later_without_counting_a_failure(RescheduleAttempts attempts, int[] expected)
    {
        var log = new RunLog();
        await using var host = await TestHost.Create(j => j
            .AddJob<ValueJob>((job, ctx, ct) =>
            {
                log.Add(job.Value, ctx.Attempt);
                return log.Runs.Count < 3 ? throw new JobRescheduleException(TimeSpan.Zero, attempts) : Task.CompletedTask;
            }, o => o.RetryStrategy = JobRetryStrategy.None)
            .AddWorkers()).StartAsync();

        await host.Queue.PushAsync(new ValueJob(5));
        await WaitUntil(() => log.Runs.Count == 3);
        Assert.Equal(expected, log.Runs.Select(r => r.Attempt));
    }

    [Fact]
    public async Task A_reschedule_past_year_9999_waits_instead_of_failing_the_outcome()
    {
        // As PostgreSQL (HandlerExceptionTests): now + TimeSpan.MaxValue used to overflow when the outcome was written.
        var log = new RunLog();
        await using var host = await TestHost.Create(j => j
            .AddJob<ValueJob>((job, ctx, ct) =>
            {
                log.Add(job.Value, ctx.Attempt);
                throw new JobRescheduleException(TimeSpan.MaxValue);
            })
            .AddWorkers()).StartAsync();

        var id = await host.Queue.PushAsync(new ValueJob(5));
        await WaitUntil(() => log.Runs.Count == 1);
        var info = await host.WaitForStateAsync(id, JobState.Pending);
        Assert.True(info.RunAt > DateTimeOffset.UtcNow.AddYears(7_000), $"run at {info.RunAt:O}");
    }

    [Fact]
    public async Task An_unknown_job_name_waits_unclaimed_and_an_undecodable_payload_fails_only_that_job()
    {
        var log = new RunLog();
        await using var host = await TestHost.Create(j => j
            .AddJob<ValueJob>((job, ctx, ct) => { log.Add(job.Value, ctx.Attempt); return Task.CompletedTask; })
            .AddWorkers(o => o.Concurrency = 1)).StartAsync();

        var orphan = await host.Queue.PushAsync(new OrphanJob(1));
        var bad = await host.Queue.PushAsync(new BadPayloadJob("not a number"));
        await host.Queue.PushAsync(new ValueJob(3));
        await log.WaitForAsync(3);

        var badInfo = await host.WaitForStateAsync(bad, JobState.Failed);
        Assert.Equal("Jobs.Sdk.JobDecodeException: Cannot decode job 'test.value' member 'Value' at $.value: expected a number, found String", badInfo.LastError);
        Assert.Equal([3], log.Values);
        // Workers claim only the names they register: a job another (newer) version handles waits for it.
        var orphanInfo = (await host.Queue.GetJobAsync(orphan))!;
        Assert.Equal((JobState.Pending, 0), (orphanInfo.State, orphanInfo.Attempts));
        Assert.Equal(1, (await host.Queue.GetCountsByNameAsync()).Single(n => n.Name == OrphanJob.JobName).Counts.Pending);
    }

    [Fact]
    public async Task Graceful_shutdown_waits_for_running_jobs_to_finish()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = false;
        var host = await TestHost.Create(j => j
            .AddJob<ValueJob>(async (job, ctx, ct) =>
            {
                started.SetResult();
                await release.Task;
                finished = true;
            })
            .AddWorkers(o => o.ShutdownTimeout = TimeSpan.FromMinutes(1)), driver: d => d.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes })
            .StartAsync();
        await using var _ = host;

        var id = await host.Queue.PushAsync(new ValueJob(1));
        await started.Task.WaitAsync(TestHost.Timeout);
        var stop = host.Worker.StopAsync(CancellationToken.None);
        Assert.False(stop.IsCompleted);
        release.SetResult();
        await stop.WaitAsync(TestHost.Timeout);

        Assert.True(finished);
        Assert.Equal(JobState.Completed, (await host.Queue.GetJobAsync(id))!.State);
    }

    [Fact]
    public async Task Jobs_still_running_after_the_shutdown_timeout_go_back_to_pending_uncounted()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observedCancel = false;
        var host = await TestHost.Create(j => j
            .AddJob<ValueJob>(async (job, ctx, ct) =>
            {
                started.SetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    observedCancel = true;
                    throw;
                }
            })
            .AddWorkers(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(50))).StartAsync();
        await using var _ = host;

        var id = await host.Queue.PushAsync(new ValueJob(1), new JobOptions { Priority = JobPriority.Higher });
        await started.Task.WaitAsync(TestHost.Timeout);
        Assert.Equal(JobState.Processing, (await host.Queue.GetJobAsync(id))!.State);
        await host.Worker.StopAsync(CancellationToken.None).WaitAsync(TestHost.Timeout);

        var info = await host.Queue.GetJobAsync(id);
        Assert.True(observedCancel);
        Assert.Equal(JobState.Pending, info!.State);
        Assert.Equal(0, info.Attempts);
        Assert.Equal(JobPriority.Higher, info.Priority);
    }

    [Fact]
    public async Task A_handler_that_ignores_cancellation_keeps_its_job_after_shutdown_until_it_returns()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource();
        var host = await TestHost.Create(j => j
            .AddJob<ValueJob>(async (job, ctx, ct) => { started.SetResult(); await release.Task; })
            .AddWorkers(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(20))).StartAsync();
        await using var _ = host;

        var id = await host.Queue.PushAsync(new ValueJob(1));
        await started.Task.WaitAsync(TestHost.Timeout);
        await host.Worker.StopAsync(CancellationToken.None).WaitAsync(TestHost.Timeout);
        // Not released while its handler still runs: no other worker may start it.
        Assert.Equal(JobState.Processing, (await host.Queue.GetJobAsync(id))!.State);
        Assert.Empty(await host.Services.GetRequiredService<Jobs.Sdk.Drivers.IJobDriver>()
            .ClaimAsync(new Jobs.Sdk.Drivers.JobClaimRequest("other", 10, TimeSpan.FromMinutes(1)), default));

        // When it returns, its outcome is recorded: the job completed once, never requeued.
        release.SetResult();
        await WaitUntil(async () => await host.Queue.GetJobAsync(id) is not { State: JobState.Processing });
        Assert.True((await host.Queue.GetJobAsync(id)) is null or { State: JobState.Completed });
    }

    [Fact]
    public async Task Handlers_resolve_from_a_new_scope_per_job()
    {
        var seen = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        await using var host = await TestHost.Create(
            j => j.AddJob<ValueJob, ScopedHandler>().AddWorkers(),
            services: s => s.AddScoped<ScopeId>().AddSingleton(seen)).StartAsync();

        await host.Queue.PushManyAsync([new ValueJob(1), new ValueJob(2), new ValueJob(3)]);
        await WaitUntil(() => seen.Count == 3);
        Assert.Equal(3, seen.Distinct().Count());
    }

    [Fact]
    public async Task Middleware_hooks_run_in_order_push_pop_handle_complete_with_first_registered_outermost()
    {
        var events = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.Create(j => j
            .AddMiddleware(new RecordingMiddleware("a", events, null))
            .AddMiddleware(new RecordingMiddleware("b", events, done))
            .AddJob<ValueJob>((job, ctx, ct) => { events.Enqueue("handler"); return Task.CompletedTask; })
            .AddWorkers()).StartAsync();

        await host.Queue.PushAsync(new ValueJob(1));
        await done.Task.WaitAsync(TestHost.Timeout);

        Assert.Equal(
            ["push:a", "push:b", "pop:a", "pop:b", "handle-start:a", "handle-start:b", "handler", "handle-end:b", "handle-end:a", "completed:a:Completed", "completed:b:Completed"],
            events);
    }

    [Fact]
    public async Task Retries_call_the_push_hook_with_the_next_attempt_and_completion_hooks_only_at_the_end()
    {
        var events = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.Create(j => j
            .ConfigureQueue(q => q.DefaultRetryStrategy = FastRetry)
            .AddMiddleware(new RecordingMiddleware("m", events, done))
            .AddJob<ValueJob>((job, ctx, ct) => throw new InvalidOperationException())
            .AddWorkers()).StartAsync();

        await host.Queue.PushAsync(new ValueJob(1));
        await done.Task.WaitAsync(TestHost.Timeout);

        Assert.Equal(["push:m:1", "push:m:2", "push:m:3"], events.Where(e => e.StartsWith("push", StringComparison.Ordinal)).Select((e, i) => $"{e}:{i + 1}"));
        Assert.Equal(["completed:m:Failed"], events.Where(e => e.StartsWith("completed", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Cancelling_a_running_job_cancels_its_token_and_marks_it_cancelled()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.Create(j => j
            .AddJob<ValueJob>(async (job, ctx, ct) => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); })
            .AddWorkers(), driver: d => d.Retention = new RetentionPolicy { CancelledJobs = Retain.Yes }).StartAsync();

        var id = await host.Queue.PushAsync(new ValueJob(1));
        await started.Task.WaitAsync(TestHost.Timeout);
        Assert.True(await host.Queue.CancelAsync(id));
        var info = await host.WaitForStateAsync(id, JobState.Cancelled);
        Assert.Equal(1, info.Attempts);
    }

    [Fact]
    public async Task Jobs_of_a_worker_that_stopped_renewing_its_lease_are_rescued_and_run_again()
    {
        var time = FakeTime.Create();
        var log = new RunLog();
        await using var host = TestHost.Create(j => j
            .AddJob<ValueJob>((job, ctx, ct) => { log.Add(job.Value, ctx.Attempt); return Task.CompletedTask; })
            .AddWorkers(o => { o.LeaseDuration = TimeSpan.FromSeconds(30); o.RescueInterval = TimeSpan.FromSeconds(5); }), time);

        var id = await host.Queue.PushAsync(new ValueJob(7));
        var driver = host.Services.GetRequiredService<Jobs.Sdk.Drivers.IJobDriver>();
        // A "dead" worker claims the job and never reports back.
        var claimed = await driver.ClaimAsync(new Jobs.Sdk.Drivers.JobClaimRequest("dead-worker", 10, TimeSpan.FromSeconds(30)), default);
        Assert.Single(claimed);

        await host.StartAsync();
        time.Advance(TimeSpan.FromSeconds(31));
        await WaitUntil(() =>
        {
            time.Advance(TimeSpan.FromSeconds(5));
            return log.Runs.Count == 1;
        });

        Assert.Equal([(7, 2)], log.Runs); // the dead worker's attempt counts
        // The dead worker's late report is ignored: it no longer owns the job.
        await driver.CompleteAsync("dead-worker", [new Jobs.Sdk.Drivers.JobOutcome(id, JobOutcomeKind.Failed, 1, Error: "late", LeaseToken: claimed[0].LeaseToken)], default);
        Assert.DoesNotContain("late", (await host.Queue.GetJobAsync(id))?.LastError ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_worker_can_run_under_the_generic_host()
    {
        var log = new RunLog();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddJobs(j => j
            .UseInMemory()
            .AddJob<ValueJob>((job, ctx, ct) => { log.Add(job.Value, ctx.Attempt); return Task.CompletedTask; })
            .AddWorkers());
        using var app = builder.Build();
        await app.StartAsync();
        await app.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(42));
        await log.WaitForAsync(42);
        await app.StopAsync();
        Assert.True(app.Services.GetRequiredService<JobWorker>().Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Registering_a_job_twice_or_configuring_two_drivers_fails_with_a_clear_message()
    {
        var services = new ServiceCollection();
        var twice = Assert.Throws<InvalidOperationException>(() => services.AddJobs(j => j.UseInMemory()
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)));
        Assert.Contains("'test.value'", twice.Message, StringComparison.Ordinal);

        var drivers = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddJobs(j => j.UseInMemory().UseInMemory()));
        Assert.Contains("already configured", drivers.Message, StringComparison.Ordinal);

        await using var noDriver = new ServiceCollection().AddJobs(_ => { }).BuildServiceProvider();
        var missing = Assert.Throws<InvalidOperationException>(() => noDriver.GetRequiredService<JobQueue>());
        Assert.Contains("UseInMemory()", missing.Message, StringComparison.Ordinal);
    }

    internal static async Task WaitUntil(Func<bool> condition) => await WaitUntil(() => Task.FromResult(condition()));

    internal static async Task WaitUntil(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TestHost.Timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Condition not met in time.");
            }

            await Task.Delay(5);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private sealed class ThrowingRetry : IJobRetryStrategy
    {
        public int MaxAttempts => 3;
        public bool ShouldRetry(int attempt, Exception error) => throw new NotSupportedException("a bug in the retry strategy");
        public TimeSpan GetDelay(int attempt, Exception error) => TimeSpan.Zero;
    }

    private sealed class OnlyRetry<TException>(int maxAttempts) : IJobRetryStrategy where TException : Exception
    {
        public int MaxAttempts => maxAttempts;
        public bool ShouldRetry(int attempt, Exception error) => error is TException && attempt < maxAttempts;
        public TimeSpan GetDelay(int attempt, Exception error) => TimeSpan.Zero;
    }

    internal sealed class ScopeId
    {
        public Guid Id { get; } = Guid.NewGuid();
    }

    internal sealed class ScopedHandler(ScopeId scope, System.Collections.Concurrent.ConcurrentBag<Guid> seen) : IJobHandler<ValueJob>
    {
        public Task HandleAsync(ValueJob job, JobContext context, CancellationToken cancellationToken)
        {
            Assert.Same(scope, context.Services.GetRequiredService<ScopeId>());
            seen.Add(scope.Id);
            return Task.CompletedTask;
        }
    }

    private sealed class RecordingMiddleware(string name, System.Collections.Concurrent.ConcurrentQueue<string> events, TaskCompletionSource? done) : IJobMiddleware
    {
        public ValueTask OnPushAsync(JobPushContext context, CancellationToken cancellationToken)
        {
            events.Enqueue($"push:{name}");
            return default;
        }

        public ValueTask OnPopAsync(JobPopContext context, CancellationToken cancellationToken)
        {
            events.Enqueue($"pop:{name}");
            return default;
        }

        public async Task HandleAsync(JobExecutionContext context, Func<Task> next, CancellationToken cancellationToken)
        {
            events.Enqueue($"handle-start:{name}");
            await next();
            events.Enqueue($"handle-end:{name}");
        }

        public ValueTask OnCompletedAsync(JobCompletedContext context, CancellationToken cancellationToken)
        {
            events.Enqueue($"completed:{name}:{context.Outcome}");
            done?.TrySetResult();
            return default;
        }
    }

    [Fact]
    public async Task A_failed_attempt_keeps_the_stack_trace_with_inner_exceptions_next_to_its_unchanged_error()
    {
        await using var host = await TestHost.Create(j => j
            .ConfigureQueue(q => q.DefaultRetryStrategy = JobRetryStrategy.ExponentialJitter(2, TimeSpan.FromMilliseconds(1)))
            .AddJob<ValueJob>((job, ctx, ct) => ThrowWrapped(ctx.Attempt))
            .AddWorkers()).StartAsync();

        var failing = await host.Queue.PushAsync(new ValueJob(-1));
        var info = await host.WaitForStateAsync(failing, JobState.Failed);

        // The error text is unchanged; the stack trace is a separate field, with the inner exception and the throwing methods.
        Assert.Equal("System.InvalidOperationException: boom 2", info.LastError);
        Assert.Equal([(1, "System.InvalidOperationException: boom 1"), (2, "System.InvalidOperationException: boom 2")],
            info.Errors.Select(e => (e.Attempt, e.Error)));
        foreach (var e in info.Errors)
        {
            var stack = Assert.IsType<string>(e.StackTrace);
            Assert.StartsWith(e.Error, stack, StringComparison.Ordinal);
            Assert.Contains(" ---> System.FormatException: inner cause", stack, StringComparison.Ordinal);
            Assert.Contains(nameof(ThrowInner), stack, StringComparison.Ordinal);
            Assert.Contains(nameof(ThrowWrapped), stack, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(60)]
    [InlineData(61)]
    public async Task Stack_traces_are_cut_to_MaxStackTraceLength_on_a_character_boundary(int max)
    {
        await using var host = TestHost.Create(j => j.ConfigureQueue(q => q.MaxStackTraceLength = max));
        var runtime = host.Runtime;
        // "System.InvalidOperationException: " is 34 characters: the emoji (a surrogate pair) sits at 58..59.
        var error = Catch(() => throw new InvalidOperationException(new string('x', 24) + "\uD83D\uDE00 nul\0 tail"));

        var stack = runtime.FormatStackTrace(error);

        if (max == 0)
        {
            Assert.Null(stack);
            return;
        }

        Assert.NotNull(stack);
        Assert.True(stack.Length <= max, $"{stack.Length} > {max}");
        Assert.EndsWith("…", stack, StringComparison.Ordinal);
        Assert.False(char.IsHighSurrogate(stack[^2]), "cut inside a surrogate pair");
        Assert.Equal(max == 61 ? 61 : 59, stack.Length); // 61: the pair fits before the ellipsis; 60: it does not
        Assert.Null(runtime.FormatStackTrace(new InvalidOperationException("never thrown"))); // nothing beyond the error text
        Assert.DoesNotContain('\0', runtime.FormatStackTrace(Catch(() => throw new InvalidOperationException("nul\0")))!);
    }

    private static Exception Catch(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            return ex;
        }

        throw new InvalidOperationException("did not throw");
    }

    private static Task ThrowWrapped(int attempt)
    {
        try
        {
            ThrowInner();
        }
        catch (FormatException inner)
        {
            throw new InvalidOperationException($"boom {attempt}", inner);
        }

        return Task.CompletedTask;
    }

    private static void ThrowInner() => throw new FormatException("inner cause");
}
