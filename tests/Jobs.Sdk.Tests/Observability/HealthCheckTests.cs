using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Jobs.Sdk.Tests.Observability;

[Collection(ObservabilityCollection.Name)]
public sealed class HealthCheckTests
{
    private static Task<HealthCheckResult> CheckAsync(JobsHealthCheck check, HealthStatus failureStatus = HealthStatus.Unhealthy)
        => check.CheckHealthAsync(new HealthCheckContext
        {
            Registration = new HealthCheckRegistration("jobs", check, failureStatus, null),
        }).WaitAsync(Obs.Timeout);

    [Fact]
    public async Task Healthy_when_the_store_answers_and_the_worker_runs()
    {
        await using var host = await ObsHost.Create(Obs.NewQueueName("health"), j => j
            .AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask)
            .AddWorkers()).StartAsync();
        await host.Queue.PushAsync(new ObsJob(1), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        await host.Driver.WaitingForWork.Task.WaitAsync(Obs.Timeout);

        var result = await CheckAsync(new JobsHealthCheck(host.Runtime, host.Worker));

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Equal(host.Queue.QueueName, result.Data["queue"]);
        Assert.Equal(1L, result.Data["pending"]);
        Assert.Equal(host.Worker.WorkerId, result.Data["workerId"]);
    }

    [Fact]
    public async Task Registered_with_AddHealthChecks_it_reports_through_HealthCheckService()
    {
        await using var host = await ObsHost.Create(Obs.NewQueueName("health-di"), j => j
            .AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask)
            .AddWorkers(),
            services: s => s.AddLogging().AddHealthChecks().AddJobsHealthCheck(tags: ["ready"])).StartAsync();
        await host.Driver.WaitingForWork.Task.WaitAsync(Obs.Timeout);

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains("ready")).WaitAsync(Obs.Timeout);

        var entry = Assert.Single(report.Entries);
        Assert.Equal("jobs", entry.Key);
        Assert.Equal(HealthStatus.Healthy, entry.Value.Status);
        Assert.Equal(HealthStatus.Healthy, report.Status);
    }

    [Fact]
    public async Task Healthy_without_a_worker_when_only_pushing()
    {
        await using var host = ObsHost.Create(Obs.NewQueueName("health-producer"), j => j.AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask),
            services: s => s.AddLogging().AddHealthChecks().AddJobsHealthCheck());

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync().WaitAsync(Obs.Timeout);

        Assert.Equal(HealthStatus.Healthy, report.Entries["jobs"].Status);
        Assert.False(report.Entries["jobs"].Data.ContainsKey("workerId"));
    }

    [Fact]
    public async Task Unhealthy_with_the_error_when_the_store_throws()
    {
        await using var host = ObsHost.Create(Obs.NewQueueName("health-down"), j => j.AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask),
            driver: d => d.OnGetCounts = _ => throw new InvalidOperationException("connection refused"));

        var result = await CheckAsync(new JobsHealthCheck(host.Runtime));

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.IsType<InvalidOperationException>(result.Exception);
        Assert.Contains("connection refused", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reports_the_registration_failure_status()
    {
        await using var host = ObsHost.Create(Obs.NewQueueName("health-degraded"), j => j.AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask),
            driver: d => d.OnGetCounts = _ => throw new InvalidOperationException("connection refused"));

        var result = await CheckAsync(new JobsHealthCheck(host.Runtime), HealthStatus.Degraded);

        Assert.Equal(HealthStatus.Degraded, result.Status);
    }

    [Fact]
    public async Task Unhealthy_when_the_store_does_not_answer_in_time()
    {
        await using var host = ObsHost.Create(Obs.NewQueueName("health-slow"), j => j.AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask),
            driver: d => d.OnGetCounts = ct => Task.Delay(Timeout.Infinite, ct));

        var result = await CheckAsync(new JobsHealthCheck(host.Runtime, options: new JobsHealthCheckOptions { Timeout = TimeSpan.FromMilliseconds(100) }));

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("did not answer", result.Description, StringComparison.Ordinal);
    }

    /// <summary>
    /// A probe whose count query outlives <see cref="JobsHealthCheckOptions.Timeout"/> reports the store as not answering;
    /// when that query fails later (a dead socket's error, after its cancellation), nobody waits for it any more: its fault
    /// must not reach <see cref="TaskScheduler.UnobservedTaskException"/> (an app's error tracker) at a random GC.
    /// </summary>
    [Fact]
    public async Task A_count_query_that_fails_after_the_probe_timed_out_leaves_no_unobserved_task_exception()
    {
        using var unobserved = new UnobservedTaskFaults();
        var held = new TaskCompletionSource(); // continuations inline: failing it ends the held query before it returns
        await using var host = ObsHost.Create(Obs.NewQueueName("health-late-fault"), j => j.AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask),
            driver: d => d.OnGetCounts = async _ => await held.Task.ConfigureAwait(false)); // ignores its token, as a stuck call does

        var result = await CheckAsync(new JobsHealthCheck(host.Runtime, options: new JobsHealthCheckOptions { Timeout = TimeSpan.FromMilliseconds(100) }));
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("did not answer", result.Description, StringComparison.Ordinal);

        held.SetException(unobserved.NewFault("count query failed after the probe gave up"));
        await unobserved.AssertNoneReportedAsync();
    }

    /// <summary>As above, for the readiness wait: a schema check that fails after the probe stopped waiting for it.</summary>
    [Fact]
    public async Task A_readiness_wait_that_fails_after_the_probe_timed_out_leaves_no_unobserved_task_exception()
    {
        using var unobserved = new UnobservedTaskFaults();
        var held = new TaskCompletionSource(); // continuations inline: failing it ends the held wait before it returns
        await using var host = ObsHost.Create(Obs.NewQueueName("health-late-ready"), j => j.AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask),
            driver: d => d.OnWaitUntilReady = async _ => await held.Task.ConfigureAwait(false));

        var result = await CheckAsync(new JobsHealthCheck(host.Runtime, options: new JobsHealthCheckOptions { Timeout = TimeSpan.FromMilliseconds(100) }));
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("not ready after", result.Description, StringComparison.Ordinal);

        held.SetException(unobserved.NewFault("schema check failed after the probe gave up"));
        await unobserved.AssertNoneReportedAsync();
    }

    [Fact]
    public async Task Unhealthy_with_the_migration_error_when_the_store_never_gets_ready()
    {
        await using var host = ObsHost.Create(Obs.NewQueueName("health-migrations"), j => j.AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask),
            driver: d => d.OnWaitUntilReady = _ => Task.FromException(new JobQueueUnavailableException("Migration 0002 failed: permission denied")));

        var result = await CheckAsync(new JobsHealthCheck(host.Runtime));

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.IsType<JobQueueUnavailableException>(result.Exception);
        Assert.Contains("Migration 0002 failed", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unhealthy_when_the_registered_worker_was_not_started()
    {
        await using var host = ObsHost.Create(Obs.NewQueueName("health-idle"), j => j
            .AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask)
            .AddWorkers(),
            services: s => s.AddLogging().AddHealthChecks().AddJobsHealthCheck());

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync().WaitAsync(Obs.Timeout);

        Assert.Equal(HealthStatus.Unhealthy, report.Entries["jobs"].Status);
        Assert.Contains("not started", report.Entries["jobs"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unhealthy_when_the_worker_stopped_or_failed_to_start()
    {
        await using var host = await ObsHost.Create(Obs.NewQueueName("health-failed"), j => j
            .AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask)
            .AddWorkers(),
            driver: d => d.OnWaitUntilReady = _ => Task.FromException(new JobQueueUnavailableException("pending migrations (dry run)"))).StartAsync();
        await Assert.ThrowsAsync<JobQueueUnavailableException>(() => host.Worker.Completion.WaitAsync(Obs.Timeout));
        host.Driver.OnWaitUntilReady = null;

        var result = await CheckAsync(new JobsHealthCheck(host.Runtime, host.Worker));

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("stopped", result.Description, StringComparison.Ordinal);
        Assert.IsType<JobQueueUnavailableException>(result.Exception);
    }

    [Fact]
    public async Task Unhealthy_when_the_worker_loops_have_not_run_for_too_long()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        await using var host = await ObsHost.Create(Obs.NewQueueName("health-stale"), j => j
            .AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask)
            .AddWorkers(o => o.LeaseDuration = TimeSpan.FromSeconds(30)),
            time: time,
            inMemory: o => o.PollInterval = TimeSpan.FromHours(1)).StartAsync();
        await host.Driver.WaitingForWork.Task.WaitAsync(Obs.Timeout);
        var check = new JobsHealthCheck(host.Runtime, host.Worker, new JobsHealthCheckOptions { WorkerStaleAfter = TimeSpan.FromSeconds(2) });

        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(check)).Status);

        // Less than a heartbeat interval (10 s) passes, so neither loop runs: the worker looks stuck.
        time.Advance(TimeSpan.FromSeconds(5));
        var result = await CheckAsync(check);

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("has not run its claim loop or heartbeat", result.Description, StringComparison.Ordinal);
    }
}
