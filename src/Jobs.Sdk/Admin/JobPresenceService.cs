using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Jobs.Sdk;

/// <summary>
/// Publishes what this process runs to the admin store, for <see cref="JobAdmin"/> and the <c>jobs</c> CLI: the worker's presence
/// (on start, then every third of the lease duration; removed on graceful stop) with its finished jobs per minute
/// (<see cref="JobThroughputCounter"/>; flushed on graceful stop too), and the schedule entries with their job
/// templates and next fire times. Registered by <c>AddJobs</c>; does nothing when the process runs neither workers nor a schedule,
/// or the driver has no admin store. Kept apart from the worker so the worker's claim loop carries no extra work.
/// </summary>
internal sealed class JobPresenceService : IHostedService, IAsyncDisposable
{
    private readonly IServiceProvider _services;
    /// <summary>The longest a stop waits for the last throughput report and the removal of the worker's row.</summary>
    private static readonly TimeSpan FinalReportTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the final report may still take once the stop's token fired (a host's shutdown timeout): as the worker's
    /// grace for its outcomes, so that a graceful stop cut short still removes the worker's row.
    /// </summary>
    private static readonly TimeSpan FinalReportGrace = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stop = new();
    private bool _reported; // the worker's row was written at least once
    private int _stopping; // 1 once a stop began: a disposal then only waits for the loop, boundedly
    private JobWorker? _worker;
    private readonly IJobAdminStore? _store;
    private TimeProvider _time = TimeProvider.System;
    private ILogger _logger = NullLogger.Instance;
    private Task? _loop;

    public JobPresenceService(IServiceProvider services)
    {
        _services = services;
        // Resolved now, not at start: the container disposes what it created in reverse order, so the store (and the driver
        // and data source behind it) is created before this service and disposed after it. A host disposed without being
        // stopped then still has a store for this service's final report (the worker's row removed), not a disposed one.
        _store = ResolveStore(services);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _worker = _services.GetService<JobWorker>();
        var schedule = _services.GetService<JobSchedule>();
        if (_store is null || (_worker is null && schedule is null))
        {
            return Task.CompletedTask;
        }

        // Everything a stop needs is taken now: the container may already be disposed when a disposal stops this service.
        var queue = _services.GetRequiredService<JobsRuntime>();
        var options = _services.GetService<IOptions<JobWorkerOptions>>()?.Value ?? new JobWorkerOptions();
        _time = queue.TimeProvider;
        _logger = GuardedLogger.For(_services.GetService<ILogger<JobPresenceService>>());
        var logger = _logger;
        _loop = DetachedContext.Start(() => RunAsync(_store, queue, _worker, schedule, options, logger, () => Volatile.Write(ref _reported, true), _stop.Token));
        return Task.CompletedTask;
    }

    private static IJobAdminStore? ResolveStore(IServiceProvider services)
    {
        try
        {
            return services.GetService<IJobAdminStore>();
        }
        catch (InvalidOperationException)
        {
            return null; // a custom driver without an admin store: nothing to publish
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loop is null)
        {
            return;
        }

        Volatile.Write(ref _stopping, 1);
        _stop.CancelInBackground(_logger, "the presence reports"); // not awaited: a stuck store call's cancellation runs in its callback
        // The loop's last report and the final one take FinalReportTimeout at most, and no more than FinalReportGrace once
        // the caller's token fired (already, under a host whose shutdown timeout passed: the row is still removed then).
        using var bounded = new CancellationTokenSource(FinalReportTimeout);
        using var cut = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).CancelAfter(FinalReportGrace), bounded);
        var token = bounded.Token;
        await _loop.WaitAsync(token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_worker is not null && _store is not null && Volatile.Read(ref _reported))
        {
            // Only a worker whose row was written has one to remove (a store never reached has nothing to take, and waiting
            // for it would hold the host's stop up until its shutdown timeout); and never for long: the row expires anyway.
            var logger = _logger;
            await ReportThroughputAsync(_store, _worker, _time, logger, token).ConfigureAwait(false);
            try
            {
                // WaitAsync: in a network partition the call ends only once Npgsql's cancel request gives up (its connection
                // timeout), past the token; its failure then is observed (nobody waits for it, and the row expires anyway).
                await _store.RemoveWorkerAsync(_worker.WorkerId, token).ObserveFault().WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // The host's shutdown timeout (or ours) passed: a stop never fails for this; the row expires with its lease anyway.
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The row expires with its lease anyway.
                AdminLog.PresenceFailed(logger, ex, _worker.WorkerId);
            }
        }
    }

    /// <summary>
    /// Stops the loop if no stop did (a container disposed without its host stopping), within the final report's bound; after a
    /// stop that was cut short (the host's shutdown timeout), waits for the loop no longer than that bound either: a store call
    /// that ignores its token must not hold the container's disposal.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (await BackgroundTasks.StopThenWaitAsync(_loop, Volatile.Read(ref _stopping) != 0, StopAsync, FinalReportTimeout).ConfigureAwait(false))
        {
            _stop.Dispose(); // not while the loop runs: its token must stay usable
        }
    }

    private static async Task RunAsync(IJobAdminStore store, JobsRuntime queue, JobWorker? worker, JobSchedule? schedule, JobWorkerOptions options,
        ILogger logger, Action reported, CancellationToken stop)
    {
        var time = queue.TimeProvider;
        try
        {
            await queue.Driver.WaitUntilReadyAsync(stop).ConfigureAwait(false);
        }
        catch (Exception) when (!stop.IsCancellationRequested)
        {
            return; // the worker and scheduler report the store being unusable
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var started = time.GetUtcNow();
        var interval = options.LeaseDuration / 3;
        var names = queue.Registry.Names.Order(StringComparer.Ordinal).ToArray();
        while (!stop.IsCancellationRequested)
        {
            if (worker is not null)
            {
                try
                {
                    await store.ReportWorkerAsync(new WorkerHeartbeat
                    {
                        WorkerId = worker.WorkerId,
                        Host = Environment.MachineName,
                        ProcessId = Environment.ProcessId,
                        StartedAt = started,
                        Queues = [queue.QueueName],
                        JobNames = names,
                        RunningCount = worker.RunningCount,
                        Concurrency = options.Concurrency,
                        TimeToLive = options.LeaseDuration,
                    }, stop).ConfigureAwait(false);
                    reported();
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    AdminLog.PresenceFailed(logger, ex, worker.WorkerId);
                }

                await ReportThroughputAsync(store, worker, time, logger, stop).ConfigureAwait(false);
            }

            if (schedule is not null)
            {
                try
                {
                    await store.PublishSchedulesAsync(Registrations(queue, schedule, time.GetUtcNow(), options.LeaseDuration), stop).ConfigureAwait(false);
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    AdminLog.PublishSchedulesFailed(logger, ex, schedule.Entries.Count);
                }
            }

            try
            {
                await Task.Delay(interval, time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Upserts the minutes whose totals changed since the last report; on failure they are reported next time.</summary>
    private static async Task ReportThroughputAsync(IJobAdminStore store, JobWorker worker, TimeProvider time, ILogger logger,
        CancellationToken cancellationToken)
    {
        var changed = worker.Throughput.TakeChanged(time.GetUtcNow());
        if (changed.Count == 0)
        {
            return;
        }

        try
        {
            // Past the token (a stuck call), the minutes are reported next time; the call's later failure is observed.
            await store.ReportThroughputAsync(new JobThroughputReport { WorkerId = worker.WorkerId, Minutes = changed }, cancellationToken)
                .ObserveFault().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            worker.Throughput.Unreported(changed);
            if (ex is not OperationCanceledException)
            {
                AdminLog.PresenceFailed(logger, ex, worker.WorkerId);
            }
        }
    }

    /// <summary>The entries as published, each holding <paramref name="timeToLive"/> (three publish intervals) unless republished.</summary>
    internal static ScheduleRegistration[] Registrations(JobsRuntime queue, JobSchedule schedule, DateTimeOffset now, TimeSpan timeToLive)
    {
        var list = new ScheduleRegistration[schedule.Entries.Count];
        var empty = new Dictionary<string, string>(0);
        for (var i = 0; i < list.Length; i++)
        {
            var entry = schedule.Entries[i];
            var target = entry.ScheduledJob.Target(queue); // the queue its jobs go to, where its fires and pause are kept
            var record = entry.CreateRecord(target, JobOptions.Default, empty);
            list[i] = new ScheduleRegistration
            {
                QueueName = target.QueueName,
                EntryKey = entry.Key,
                JobName = record.Name,
                Description = entry.Schedule.Description,
                Payload = record.Payload,
                Priority = record.Priority,
                MaxAttempts = record.MaxAttempts,
                NextFireAt = entry.Schedule.GetNextOccurrence(now),
                // A unique type's key, as its fires carry it (ScheduledJob<TJob>.CreateRecord): a trigger keeps the promise too.
                UniqueKey = record.UniqueKey,
                UniqueFor = record.UniqueKey is null ? TimeSpan.Zero : record.UniqueFor,
                // Its concurrency key and limit, as its fires carry them: a triggered job waits in the key's line too.
                ConcurrencyKey = record.ConcurrencyKey,
                ConcurrencyLimit = record.ConcurrencyKey is null ? null : Math.Max(record.ConcurrencyLimit ?? 1, 1),
                // Republished every third of it: an entry no running scheduler publishes any more is listed as stale after it.
                TimeToLive = timeToLive,
            };
        }

        return list;
    }
}
