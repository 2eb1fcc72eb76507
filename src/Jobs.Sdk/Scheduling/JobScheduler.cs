using System.Globalization;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// Pushes the jobs of a <see cref="JobSchedule"/> when they fall due. Runs as an <see cref="IHostedService"/> (added by
/// <c>AddSchedule</c>) or standalone through <see cref="StartAsync"/> and <see cref="StopAsync"/>.
/// </summary>
/// <remarks>
/// <para>Any number of processes may run the same schedule, with no leader: every scheduler tries every fire time, and the
/// driver's <see cref="IJobScheduleStore"/> records (entry, fire time) together with the job, so each fire is pushed exactly
/// once and a node that dies costs nothing as long as another one runs. A unique job type (<c>[Job(Unique = true)]</c>) carries
/// its unique key: a fire whose key a job of the queue holds is recorded without a job (logged, event 1210) and not pushed later.</para>
/// <para>At start each entry resumes from the last fire time recorded in the store: missed fire times are pushed per its
/// <see cref="ScheduleAccuracy"/>. An entry the store has never seen starts from now (history is not back-filled).</para>
/// <para>Jobs are pushed with their fire time as run-at (the store's clock decides when they are due) and carry the headers
/// <see cref="JobHeaders.ScheduledAt"/>, <see cref="JobHeaders.NextScheduledAt"/> and <see cref="JobHeaders.ScheduleEntry"/>,
/// surfaced as <see cref="JobContext.ScheduledAt"/> and <see cref="JobContext.NextScheduledAt"/>. Store errors are logged and
/// retried with exponential backoff (1 s up to 1 min); all time comes from the queue's <see cref="System.TimeProvider"/>.</para>
/// </remarks>
public sealed class JobScheduler : IHostedService, IAsyncDisposable
{
    /// <summary>Longest single wait, so a wall-clock change is noticed within a minute.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MinRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    /// <summary>How far this host's clock may be from the store's before the scheduler warns at start (event 1212).</summary>
    private static readonly TimeSpan ClockSkewWarning = TimeSpan.FromSeconds(2);

    /// <summary>The longest a disposal waits for the scheduling loops once they were told to stop.</summary>
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(5);

    private readonly JobsRuntime _runtime;
    private readonly JobSchedule _schedule;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private Task? _run;
    private int _started;

    internal JobScheduler(JobsRuntime runtime, JobSchedule schedule, ILogger<JobScheduler>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(schedule);
        _runtime = runtime;
        _schedule = schedule;
        _logger = GuardedLogger.For(logger);
        _time = runtime.TimeProvider;
    }

    /// <summary>
    /// Test hook: an entry waits for its next fire time (all earlier ones are handled); its timer, already registered, wakes
    /// it at the third argument (at most a minute ahead, so wall-clock changes are noticed).
    /// </summary>
    internal event Action<string, DateTimeOffset, DateTimeOffset>? Waiting;

    /// <summary>Test hook: a store call failed and the entry waits <c>delay</c> before retrying (the timer is registered).</summary>
    internal event Action<string, TimeSpan>? RetryWaiting;

    /// <summary>
    /// Test hook: a fire time was handled (<c>true</c>: this scheduler pushed its job; <c>false</c>: it was already pushed, or
    /// this scheduler recorded it without a job because its unique key was held or the entry is paused).
    /// </summary>
    internal event Action<string, DateTimeOffset, bool>? FireHandled;

    /// <summary>Test hook: what the store said about a fire this scheduler handled (raised just before <see cref="FireHandled"/>).</summary>
    internal event Action<string, DateTimeOffset, ScheduledFireResult>? FireResult;

    /// <summary>
    /// Starts the scheduler. Returns at once; waits for the store (migrations) in the background.
    /// </summary>
    /// <exception cref="InvalidOperationException">The queue's driver cannot store schedules, or the scheduler was already started.</exception>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_runtime.Driver is not IJobScheduleStore store)
        {
            throw new InvalidOperationException(
                $"The job driver of queue '{_runtime.QueueName}' ({_runtime.Driver.GetType().Name}) cannot store schedules: it does not implement " +
                $"{nameof(IJobScheduleStore)}. Use a driver that does (UseInMemory() or UsePostgres(...)), or remove AddSchedule.");
        }

        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("This JobScheduler was already started.");
        }

        // Outside the caller's trace: each scheduled push is a root span (README "Tracing").
        _run = DetachedContext.Start(() => RunAsync(store, _stop.Token));
        return Task.CompletedTask;
    }

    /// <summary>Stops pushing and waits for the scheduling loops to end (or <paramref name="cancellationToken"/>).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_run is null)
        {
            return;
        }

        // Not waiting for the token's callbacks (see CancelInBackground); the loops are waited for below.
        _stop.CancelInBackground(_logger, $"the scheduler of queue '{_runtime.QueueName}'");
        try
        {
            await _run.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            Log.SchedulerStopped(_logger, _runtime.QueueName);
        }
    }

    /// <summary>
    /// Stops the scheduler if no stop did (a container disposed without its host stopping); after a stop cut short (a host's
    /// shutdown timeout), waits for the loops no longer than <see cref="DisposeTimeout"/>: a store call that ignores its
    /// token (a connection stuck on a dead socket) must not hold the container's disposal.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (await BackgroundTasks.StopThenWaitAsync(_run, _stop.IsCancellationRequested, StopAsync, DisposeTimeout).ConfigureAwait(false))
        {
            _stop.Dispose(); // not while the loops run: their token must stay usable
        }
    }

    private async Task RunAsync(IJobScheduleStore store, CancellationToken stop)
    {
        try
        {
            await _runtime.Driver.WaitUntilReadyAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            Log.SchedulerNotReady(_logger, ex, _runtime.QueueName);
            return; // logged; a faulted loop would be left unobserved by the waits for it (an UnobservedTaskException at a GC)
        }

        Log.SchedulerStarted(_logger, _runtime.QueueName, _schedule.Entries.Count);
        // Each entry's jobs go to the queue its job type declares, and that queue's store keeps the entry's fires (its
        // exactly-once record and last fire time), so every scheduler of the entry agrees on one place. The entries of one
        // store read where they resume from together: one round trip for thousands of entries, not one each.
        var stores = new Dictionary<IJobScheduleStore, List<(JobsRuntime Target, JobScheduleEntry Entry)>>(ReferenceEqualityComparer.Instance);
        foreach (var entry in _schedule.Entries)
        {
            var target = entry.ScheduledJob.Target(_runtime);
            var entryStore = target.Driver as IJobScheduleStore ?? store;
            if (!stores.TryGetValue(entryStore, out var entries))
            {
                stores[entryStore] = entries = [];
            }

            entries.Add((target, entry));
        }

        var runs = stores.Select(s => Task.Run(() => RunStoreAsync(s.Key, s.Value, stop), CancellationToken.None)).ToArray();
        await Task.WhenAll(runs).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Reads the last fire times of one store's entries in one call (retried), then runs each entry's loop.</summary>
    private async Task RunStoreAsync(IJobScheduleStore store, List<(JobsRuntime Target, JobScheduleEntry Entry)> entries, CancellationToken stop)
    {
        var keys = entries.Select(e => e.Entry.Key).ToArray();
        var what = keys.Length == 1 ? keys[0] : $"{keys[0]} and {keys.Length - 1} more entries";
        IReadOnlyDictionary<string, DateTimeOffset> last;
        try
        {
            last = await WithRetryAsync(what, ct => store.GetLastFireTimesAsync(keys, ct), stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return;
        }

        if (store is IJobStoreClock clock)
        {
            await CheckClockAsync(clock, entries[0].Target.QueueName, stop).ConfigureAwait(false);
        }

        var loops = new Task[entries.Count];
        for (var i = 0; i < loops.Length; i++)
        {
            var (target, entry) = entries[i];
            DateTimeOffset? resumeFrom = last.TryGetValue(entry.Key, out var time) ? time : null;
            loops[i] = Task.Run(() => RunEntryAsync(target, store, entry, resumeFrom, stop), CancellationToken.None);
        }

        await Task.WhenAll(loops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>
    /// Warns (event 1212) when this host's clock is more than <see cref="ClockSkewWarning"/> from the store's, measured to
    /// within half a round trip: fires are pushed by this clock and fall due by the store's.
    /// </summary>
    private async Task CheckClockAsync(IJobStoreClock clock, string queueName, CancellationToken stop)
    {
        try
        {
            var before = _time.GetUtcNow();
            var storeTime = await clock.GetStoreTimeAsync(stop).ConfigureAwait(false);
            var after = _time.GetUtcNow();
            var margin = (after - before) / 2;
            var skew = before + margin - storeTime; // positive: this host is ahead
            if (skew.Duration() - margin > ClockSkewWarning)
            {
                var ahead = skew > TimeSpan.Zero;
                Log.SchedulerClockSkew(_logger, TimeSpan.FromMilliseconds(Math.Round(skew.Duration().TotalMilliseconds)), ahead ? "ahead of" : "behind",
                    queueName, ahead
                        ? "early (its jobs still fall due on time; more than a day ahead, the fires it records make every scheduler of the entry count " +
                          "the earlier ones as pushed, and they are never pushed)"
                        : "late (its jobs run that late unless another scheduler of the entry pushes them)");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            // A diagnostic only: the entries run whatever it says, and their own store calls report a store out of reach.
        }
    }

    private async Task RunEntryAsync(JobsRuntime target, IJobScheduleStore store, JobScheduleEntry entry, DateTimeOffset? last, CancellationToken stop)
    {
        try
        {
            // Nothing recorded: start from now rather than back-filling history.
            var cursor = last ?? _time.GetUtcNow();
            // The fire times a Latest entry gave up while the store was out of reach (a later one fell due): counted as missed.
            var givenUp = 0;
            while (!stop.IsCancellationRequested)
            {
                var now = _time.GetUtcNow();
                if (entry.Schedule.GetNextOccurrence(cursor) is not { } fire)
                {
                    Log.ScheduleExhausted(_logger, entry.Key);
                    return;
                }

                if (fire > now)
                {
                    var wait = fire - now < MaxWait ? fire - now : MaxWait;
                    var delay = Task.Delay(wait, _time, stop);
                    Waiting?.Invoke(entry.Key, fire, now + wait);
                    await delay.ConfigureAwait(false);
                    continue;
                }

                var missed = 1 + givenUp;
                if (entry.Accuracy == ScheduleAccuracy.Latest)
                {
                    while (entry.Schedule.GetNextOccurrence(fire) is { } later && later <= now)
                    {
                        fire = later;
                        missed++;
                    }

                    if (missed > 1)
                    {
                        Log.ScheduleCatchUpLatest(_logger, entry.Key, missed, fire);
                    }
                }

                try
                {
                    await PushAsync(target, store, entry, fire, stop).ConfigureAwait(false);
                    givenUp = 0;
                }
                catch (FireSupersededException)
                {
                    // The store was out of reach until a later fire time fell due: one catch-up for the latest, as after downtime.
                    givenUp = missed;
                }

                cursor = fire;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.ScheduleEntryFailed(_logger, ex, entry.Key);
        }
    }

    private async Task PushAsync(JobsRuntime target, IJobScheduleStore store, JobScheduleEntry entry, DateTimeOffset fire, CancellationToken stop)
    {
        var next = entry.Schedule.GetNextOccurrence(fire);
        var headers = new Dictionary<string, string>(3, StringComparer.Ordinal)
        {
            [JobHeaders.ScheduledAt] = fire.ToString("O", CultureInfo.InvariantCulture),
            [JobHeaders.ScheduleEntry] = entry.Key,
        };
        if (next is { } n)
        {
            headers[JobHeaders.NextScheduledAt] = n.ToString("O", CultureInfo.InvariantCulture);
        }

        var options = new JobOptions { DelayUntil = fire };
        // A Latest entry keeps retrying its fire only while it is the latest due: after an outage across several fire times
        // it pushes one catch-up job, for the latest of them, as a scheduler that starts after downtime does.
        Func<bool>? superseded = entry.Accuracy == ScheduleAccuracy.Latest
            ? () => entry.Schedule.GetNextOccurrence(fire) is { } later && later <= _time.GetUtcNow()
            : null;
        var result = await entry.ScheduledJob.PushAsync(target, options, headers,
            (record, ct) => WithRetryAsync(entry.Key, c => store.PushScheduledAsync(entry.Key, fire, record, c), ct,
                superseded is null ? null : error => superseded() ? new FireSupersededException(entry.Key, fire, error) : null), stop).ConfigureAwait(false);
        switch (result.Outcome)
        {
            case ScheduledFireOutcome.Pushed:
                Log.ScheduledPushed(_logger, entry.Key, result.JobId.GetValueOrDefault(), fire);
                break;
            case ScheduledFireOutcome.KeyHeld:
                // The unique-job promise holds for scheduled jobs too: no second job of the key; the fire is spent.
                Log.ScheduledKeyHeld(_logger, entry.Key, fire, result.JobId?.ToString() ?? "(unknown: it let the key go since)");
                break;
            case ScheduledFireOutcome.Paused:
                Log.ScheduledPaused(_logger, entry.Key, fire);
                break;
            default:
                Log.ScheduledAlreadyPushed(_logger, entry.Key, fire);
                break;
        }

        FireResult?.Invoke(entry.Key, fire, result);
        FireHandled?.Invoke(entry.Key, fire, result.Outcome == ScheduledFireOutcome.Pushed);
    }

    /// <summary>
    /// Runs <paramref name="action"/> until it succeeds, with backoff. <paramref name="giveUp"/>, asked after each wait with
    /// the last error, returns the exception to end with instead of retrying (null: retry).
    /// </summary>
    private async Task<T> WithRetryAsync<T>(string entryKey, Func<CancellationToken, Task<T>> action, CancellationToken stop,
        Func<Exception, Exception?>? giveUp = null)
    {
        var delay = MinRetryDelay;
        while (true)
        {
            try
            {
                return await action(stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                Log.ScheduleStoreFailed(_logger, ex, entryKey, delay);
                var wait = Task.Delay(delay, _time, stop);
                RetryWaiting?.Invoke(entryKey, delay);
                await wait.ConfigureAwait(false);
                if (giveUp?.Invoke(ex) is { } end)
                {
                    throw end;
                }

                delay = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
            }
        }
    }

    /// <summary>
    /// A <see cref="ScheduleAccuracy.Latest"/> entry's fire given up: the store stayed out of reach until a later fire time fell
    /// due, which is pushed instead (the push's span records this, with the store's last error as the inner exception).
    /// </summary>
    private sealed class FireSupersededException(string entryKey, DateTimeOffset fire, Exception lastError) : Exception(
        $"Schedule entry '{entryKey}': the fire of {fire.ToString("O", CultureInfo.InvariantCulture)} was not pushed: the schedule store stayed " +
        "out of reach until a later fire time fell due, and with ScheduleAccuracy.Latest only the latest due fire is pushed (one catch-up).",
        lastError);
}
