using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Tests.Observability;

[Collection(ObservabilityCollection.Name)]
public sealed class MetricsTests
{
    [Fact]
    public async Task Push_fail_retry_succeed_counts_every_attempt_exactly()
    {
        var queueName = Obs.NewQueueName("metrics");
        using var metrics = new MetricCollector(queueName);
        await using var host = await ObsHost.Create(queueName, j => j
            .AddJob<ObsJob>((job, ctx, ct) => ctx.Attempt < 3 ? throw new InvalidOperationException("boom") : Task.CompletedTask,
                o => o.RetryStrategy = Obs.FastRetry)
            .AddWorkers()).StartAsync();

        await host.Queue.PushAsync(new ObsJob(1));
        await metrics.WaitAsync(m => m.Sum(JobsDiagnostics.CompletedInstrument) == 1 && m.Of(JobsDiagnostics.ExecutionDurationInstrument).Count == 3);

        var pushed = Assert.Single(metrics.Of(JobsDiagnostics.PushedInstrument));
        Assert.Equal(1, pushed.Value);
        Assert.Equal("obs.job", pushed.Tag("jobs.job.name"));

        // Both retries count (the seed's middleware misses the first one).
        var retried = metrics.Of(JobsDiagnostics.RetriedInstrument);
        Assert.Equal(2, retried.Count);
        Assert.All(retried, r =>
        {
            Assert.Equal(1, r.Value);
            Assert.Equal("obs.job", r.Tag("jobs.job.name"));
            Assert.Equal("System.InvalidOperationException", r.Tag("error.type"));
        });

        var completed = Assert.Single(metrics.Of(JobsDiagnostics.CompletedInstrument));
        Assert.Equal("obs.job", completed.Tag("jobs.job.name"));
        Assert.Empty(metrics.Of(JobsDiagnostics.FailedInstrument));
        Assert.Empty(metrics.Of(JobsDiagnostics.CancelledInstrument));
        Assert.Empty(metrics.Of(JobsDiagnostics.DiscardedInstrument));

        var durations = metrics.Of(JobsDiagnostics.ExecutionDurationInstrument);
        Assert.Equal(["completed", "retried", "retried"], durations.Select(d => d.Tag("jobs.job.outcome")).Order());
        Assert.All(durations, d => Assert.True(d.Value >= 0));

        var waits = metrics.Of(JobsDiagnostics.QueueWaitInstrument);
        Assert.Equal(3, waits.Count);
        Assert.All(waits, w =>
        {
            Assert.True(w.Value >= 0);
            Assert.Equal("obs.job", w.Tag("jobs.job.name"));
        });
    }

    [Fact]
    public async Task Final_failures_cancellations_and_discards_are_counted_with_their_reason()
    {
        var queueName = Obs.NewQueueName("metrics-outcomes");
        using var metrics = new MetricCollector(queueName);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await ObsHost.Create(queueName, j => j
            .AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask)
            .AddJob<ObsOtherJob>(async (job, ctx, ct) =>
            {
                if (job.Value == 1)
                {
                    throw new FormatException("bad input");
                }

                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }, o => o.RetryStrategy = JobRetryStrategy.None)
            .AddWorkers(o => o.Concurrency = 4)).StartAsync();

        await host.Queue.PushAsync(new ObsOtherJob(1));
        var running = await host.Queue.PushAsync(new ObsOtherJob(2));
        await host.Queue.PushAsync(new ObsOrphanJob(3));
        await host.Queue.PushAsync(new ObsBadPayloadJob("x"));
        await started.Task.WaitAsync(Obs.Timeout);
        Assert.True(await host.Queue.CancelAsync(running));

        // The orphan is never claimed (workers claim only registered names): three executions.
        await metrics.WaitAsync(m => m.Of(JobsDiagnostics.ExecutionDurationInstrument).Count == 3);

        Assert.Equal(4, metrics.Sum(JobsDiagnostics.PushedInstrument));
        Assert.Equal(["obs.job", "obs.orphan", "obs.other"], metrics.Of(JobsDiagnostics.PushedInstrument).Select(p => p.Tag("jobs.job.name")).Distinct().Order());
        var failed = Assert.Single(metrics.Of(JobsDiagnostics.FailedInstrument));
        Assert.Equal("obs.other", failed.Tag("jobs.job.name"));
        Assert.Equal("System.FormatException", failed.Tag("error.type"));
        var cancelled = Assert.Single(metrics.Of(JobsDiagnostics.CancelledInstrument));
        Assert.Equal("obs.other", cancelled.Tag("jobs.job.name"));
        var discarded = metrics.Of(JobsDiagnostics.DiscardedInstrument);
        Assert.Equal(["decode_error"], discarded.Select(d => d.Tag("jobs.discard.reason")).Order());
        Assert.Empty(metrics.Of(JobsDiagnostics.RetriedInstrument));
        Assert.Empty(metrics.Of(JobsDiagnostics.CompletedInstrument));
        Assert.Equal(["cancelled", "discarded", "failed"],
            metrics.Of(JobsDiagnostics.ExecutionDurationInstrument).Select(d => d.Tag("jobs.job.outcome")).Order());
    }

    [Fact]
    public async Task PushMany_counts_every_job_of_the_batch()
    {
        var queueName = Obs.NewQueueName("metrics-batch");
        using var metrics = new MetricCollector(queueName);
        await using var host = ObsHost.Create(queueName, j => j.AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask));

        await host.Queue.PushManyAsync(Enumerable.Range(1, 5).Select(i => new ObsJob(i)));

        Assert.Equal(5, metrics.Sum(JobsDiagnostics.PushedInstrument));
    }

    [Fact]
    public async Task State_gauge_reports_the_counts_per_state_of_the_queue()
    {
        var queueName = Obs.NewQueueName("metrics-gauge");
        using var metrics = new MetricCollector(queueName);
        await using var host = ObsHost.Create(queueName, j => j.AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask));
        var later = new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) };
        await host.Queue.PushAsync(new ObsJob(1), later);
        await host.Queue.PushAsync(new ObsJob(2), later);
        var paused = await host.Queue.PushAsync(new ObsJob(3), later);
        Assert.True(await host.Queue.PauseAsync(paused));

        var sampler = JobsInstrumentation.GetSampler(host.Driver);
        Assert.NotNull(sampler);
        await sampler.RefreshAsync().WaitAsync(Obs.Timeout);
        metrics.RecordObservableInstruments();

        var states = metrics.Of(JobsDiagnostics.StateCountInstrument).ToDictionary(p => p.Tag("jobs.job.state")!, p => p.Value);
        Assert.Equal(7, states.Count);
        Assert.Equal(2, states["pending"]);
        Assert.Equal(1, states["paused"]);
        Assert.Equal(0, states["processing"] + states["retrying"] + states["completed"] + states["failed"] + states["cancelled"]);
    }

    [Fact]
    public async Task State_gauge_never_waits_for_the_store_and_runs_one_query_at_a_time()
    {
        var queueName = Obs.NewQueueName("metrics-gauge-slow");
        using var metrics = new MetricCollector(queueName);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var queryStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var queries = 0;
        await using var host = ObsHost.Create(queueName, j => j.AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask),
            driver: d => d.OnGetCounts = async ct =>
            {
                Interlocked.Increment(ref queries);
                queryStarted.TrySetResult();
                await gate.Task.WaitAsync(ct);
            });
        await host.Queue.PushAsync(new ObsJob(1));

        // The store hangs: observing returns at once, with nothing for this queue, and starts a single query.
        await Task.Run(metrics.RecordObservableInstruments).WaitAsync(Obs.Timeout);
        await queryStarted.Task.WaitAsync(Obs.Timeout);
        for (var i = 0; i < 2; i++)
        {
            await Task.Run(metrics.RecordObservableInstruments).WaitAsync(Obs.Timeout);
        }

        Assert.Empty(metrics.Of(JobsDiagnostics.StateCountInstrument));
        Assert.Equal(1, Volatile.Read(ref queries));

        gate.SetResult();
        var sampler = JobsInstrumentation.GetSampler(host.Driver)!;
        await sampler.RefreshAsync().WaitAsync(Obs.Timeout);
        metrics.RecordObservableInstruments();

        var pending = Assert.Single(metrics.Of(JobsDiagnostics.StateCountInstrument), p => p.Tag("jobs.job.state") == "pending");
        Assert.Equal(1, pending.Value);
    }

    /// <summary>
    /// A store without a read of every queue's counts (the in-memory one, a custom driver: no shared read to fail once for
    /// all its queues) keeps logging per queue: one warning 1300 naming the queue at its first failed refresh, none for
    /// the failures that follow, and one 1301 when a refresh succeeds again.
    /// </summary>
    [Fact]
    public async Task State_gauge_of_a_store_without_a_shared_read_logs_its_failure_and_recovery_per_queue()
    {
        var queueName = Obs.NewQueueName("metrics-gauge-fail");
        var logs = new CapturingLoggerProvider();
        var failing = true;
        await using var host = ObsHost.Create(queueName, j => j.AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask),
            driver: d => d.OnGetCounts = _ => Volatile.Read(ref failing) ? throw new InvalidOperationException("connection refused") : Task.CompletedTask,
            services: s => s.AddLogging(l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Trace)));
        await host.Queue.PushAsync(new ObsJob(1));
        var sampler = JobsInstrumentation.GetSampler(host.Driver)!;
        for (var refresh = 0; refresh < 3; refresh++)
        {
            await sampler.RefreshAsync().WaitAsync(Obs.Timeout);
        }

        var during = GaugeLogs(logs, queueName);
        Assert.True(during.Count == 1 && during[0].EventId.Id == 1300 && during[0].Level == LogLevel.Warning,
            $"three failed refreshes of one queue's counts logged {during.Count} gauge event(s), not one warning 1300: "
            + string.Join("; ", during.Select(e => $"{e.EventId.Id} {e.Level} {e.Message}")));
        Assert.Equal(1, during[0].State["QueueCount"]);

        Volatile.Write(ref failing, false);
        await sampler.RefreshAsync().WaitAsync(Obs.Timeout);
        await sampler.RefreshAsync().WaitAsync(Obs.Timeout);
        var after = GaugeLogs(logs, queueName);
        Assert.Equal([1300, 1301], after.Select(e => e.EventId.Id));
        Assert.Equal(1, after[1].State["QueueCount"]);
    }

    /// <summary>The gauge's log events (1300-1319) about queue <paramref name="queueName"/>, oldest first.</summary>
    private static List<CapturingLoggerProvider.LogEntry> GaugeLogs(CapturingLoggerProvider logs, string queueName)
        => logs.Entries.Where(e => e.EventId.Id is >= 1300 and < 1320 && e.Message.Contains(queueName, StringComparison.Ordinal)).ToList();

    [Fact]
    public void Instruments_use_the_documented_names_and_units()
    {
        var published = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == JobsDiagnostics.MeterName)
                {
                    published.Add(instrument);
                }
            },
        };
        listener.Start();

        var byName = published.ToDictionary(i => i.Name);
        Assert.Equal(
            ["jobs.cancelled", "jobs.completed", "jobs.discarded", "jobs.execution.duration", "jobs.failed", "jobs.pushed", "jobs.queue.wait", "jobs.retried", "jobs.state.count"],
            byName.Keys.Order());
        Assert.Equal("s", byName["jobs.execution.duration"].Unit);
        Assert.Equal("s", byName["jobs.queue.wait"].Unit);
        Assert.IsType<ObservableGauge<long>>(byName["jobs.state.count"]);
        Assert.IsType<Counter<long>>(byName["jobs.retried"]);
    }
}
