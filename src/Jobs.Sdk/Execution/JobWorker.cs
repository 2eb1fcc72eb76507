using System.Collections.Concurrent;
using System.Threading.Channels;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Jobs.Sdk;

/// <summary>
/// Claims jobs from the queue's driver and runs them, at most <see cref="JobWorkerOptions.Concurrency"/> at once.
/// Runs as an <see cref="IHostedService"/> (added by <c>AddWorkers</c>) or standalone through
/// <see cref="StartAsync"/> and <see cref="StopAsync"/>.
/// </summary>
/// <remarks>
/// One claim statement fetches as many jobs as there are free slots; outcomes are recorded in batches by a
/// background completer (whatever finished while the previous batch was written goes in the next one); a heartbeat
/// renews the leases of owned jobs, and a rescuer requeues the jobs of workers that stopped renewing theirs.
/// </remarks>
public sealed partial class JobWorker : IHostedService, IAsyncDisposable
{
    /// <summary>How long a busy worker waits for more free slots before a claim (micro-batching of claims).</summary>
    private static readonly TimeSpan ClaimBatchWindow = TimeSpan.FromMilliseconds(2);

    private readonly JobQueue _queue;
    private readonly IJobDriver _driver;
    private readonly IServiceScopeFactory _scopeFactory;
    private readonly JobWorkerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IJobMiddleware[] _middleware;
    private readonly ConcurrentDictionary<JobId, RunningJob> _running = new();
    private readonly ConcurrentDictionary<JobId, byte> _owned = new();
    private readonly Channel<JobOutcome> _outcomes = Channel.CreateUnbounded<JobOutcome>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<RunningJob> _ready = Channel.CreateUnbounded<RunningJob>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly CancellationTokenSource _stopClaiming = new();
    private readonly CancellationTokenSource _stopBackground = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SemaphoreSlim? _slots;
    private Task? _claimLoop;
    private Task[] _runners = [];
    private Task? _completer;
    private Task? _heartbeat;
    private Task? _rescuer;
    private int _started;
    private long _lastRenewalTicks;

    /// <summary>Creates a worker for <paramref name="queue"/>.</summary>
    public JobWorker(JobQueue queue, IServiceScopeFactory scopeFactory, IOptions<JobWorkerOptions> options, ILogger<JobWorker>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(scopeFactory);
        ArgumentNullException.ThrowIfNull(options);
        _queue = queue;
        _driver = queue.Driver;
        _scopeFactory = scopeFactory;
        _options = options.Value;
        _options.Validate();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = queue.TimeProvider;
        _middleware = queue.Middleware.ToArray();
        WorkerId = _options.WorkerId ?? $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>This worker's id, recorded with every job it claims.</summary>
    public string WorkerId { get; }

    /// <summary>Number of jobs running now.</summary>
    public int RunningCount => _running.Count;

    /// <summary>Completes when the worker has stopped (after <see cref="StopAsync"/>, or when it failed to start).</summary>
    public Task Completion => _drained.Task;

    /// <summary>Starts claiming and running jobs. Returns at once; waits for the store (migrations) in the background.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("This JobWorker was already started.");
        }

        var capacity = _options.Concurrency + _options.Prefetch;
        _slots = new SemaphoreSlim(capacity, capacity);
        _driver.RunningJobCancelled += OnRunningJobCancelled;
        _claimLoop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops claiming, lets running jobs finish within <see cref="JobWorkerOptions.ShutdownTimeout"/>, then cancels the
    /// rest and returns them to pending. Records every outcome before returning (unless <paramref name="cancellationToken"/> fires first).
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_claimLoop is null)
        {
            return;
        }

        await _stopClaiming.CancelAsync().ConfigureAwait(false);
        try
        {
            await _claimLoop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await DrainRunningJobsAsync(cancellationToken).ConfigureAwait(false);

        // Every outcome is in the channel now; let the completer write them all, then stop the background loops.
        _outcomes.Writer.TryComplete();
        if (_completer is not null)
        {
            try
            {
                await _completer.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }

        await _stopBackground.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _heartbeat, _rescuer })
        {
            if (task is not null)
            {
                await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        _driver.RunningJobCancelled -= OnRunningJobCancelled;
        Log.WorkerStopped(_logger, WorkerId);
        _drained.TrySetResult();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_claimLoop is not null && !_drained.Task.IsCompleted)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        _stopClaiming.Dispose();
        _stopBackground.Dispose();
        _slots?.Dispose();
    }

    private async Task RunAsync()
    {
        var stop = _stopClaiming.Token;
        try
        {
            await _driver.WaitUntilReadyAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            Log.WorkerNotReady(_logger, ex, WorkerId);
            _drained.TrySetException(ex);
            throw;
        }

        Interlocked.Exchange(ref _lastRenewalTicks, _time.GetTimestamp());
        _completer = Task.Run(CompleteLoopAsync, CancellationToken.None);
        _heartbeat = Task.Run(HeartbeatLoopAsync, CancellationToken.None);
        _rescuer = Task.Run(RescueLoopAsync, CancellationToken.None);
        _runners = Enumerable.Range(0, _options.Concurrency).Select(_ => Task.Run(RunnerLoopAsync, CancellationToken.None)).ToArray();
        Log.WorkerStarted(_logger, WorkerId, _driver.QueueName, _options.Concurrency);

        var slots = _slots!;
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            MarkAlive();
            try
            {
                await slots.WaitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            var capacity = _options.Concurrency + _options.Prefetch;
            var free = 1 + TakeFreeSlots(slots, capacity - 1);
            if (free * 2 < capacity && !_running.IsEmpty)
            {
                // Busy: jobs are finishing one after another. Give them a moment so that one claim (one round trip, one
                // commit) fills several slots instead of one. An idle worker claims at once, so latency is unaffected.
                free += await GatherSlotsAsync(slots, capacity / 2 - free, stop).ConfigureAwait(false);
            }

            IReadOnlyList<ClaimedJob> claimed;
            try
            {
                claimed = await _driver.ClaimAsync(new JobClaimRequest(WorkerId, free, _options.LeaseDuration), stop).ConfigureAwait(false);
                failures = 0;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                slots.Release(free);
                break;
            }
            catch (Exception ex)
            {
                slots.Release(free);
                var delay = Backoff(++failures);
                Log.ClaimFailed(_logger, ex, delay);
                await DelayAsync(delay, stop).ConfigureAwait(false);
                continue;
            }

            if (claimed.Count < free)
            {
                slots.Release(free - claimed.Count);
            }

            foreach (var job in claimed)
            {
                var run = new RunningJob(job);
                _owned[job.Id] = 0;
                _running[job.Id] = run;
                _ready.Writer.TryWrite(run);
            }

            if (claimed.Count < free)
            {
                // The queue has nothing more due right now: sleep until a push notification or the poll interval.
                await _driver.WaitForWorkAsync(stop).ConfigureAwait(false);
            }
        }
    }

    private static int TakeFreeSlots(SemaphoreSlim slots, int max)
    {
        var taken = 0;
        while (taken < max && slots.Wait(0))
        {
            taken++;
        }

        return taken;
    }

    /// <summary>Waits up to <see cref="ClaimBatchWindow"/> for up to <paramref name="wanted"/> more slots to free up.</summary>
    private static async Task<int> GatherSlotsAsync(SemaphoreSlim slots, int wanted, CancellationToken cancellationToken)
    {
        var taken = 0;
        var deadline = Environment.TickCount64 + (long)ClaimBatchWindow.TotalMilliseconds;
        while (taken < wanted)
        {
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                break;
            }

            try
            {
                if (!await slots.WaitAsync(TimeSpan.FromMilliseconds(left), cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }

            taken++;
            taken += TakeFreeSlots(slots, wanted - taken);
        }

        return taken;
    }

    private async Task DrainRunningJobsAsync(CancellationToken cancellationToken)
    {
        // Jobs claimed but not started (the prefetch buffer) go straight back to the queue.
        _ready.Writer.TryComplete();
        while (_ready.Reader.TryRead(out var buffered))
        {
            buffered.Cancel(CancelReason.Shutdown);
            if (NotStartedOutcome(buffered) is { } outcome && buffered.TryFinish())
            {
                _outcomes.Writer.TryWrite(outcome);
            }
            else
            {
                _owned.TryRemove(buffered.Job.Id, out _);
            }

            _running.TryRemove(buffered.Job.Id, out _);
        }

        var runners = Task.WhenAll(_runners);
        try
        {
            await runners.WaitAsync(_options.ShutdownTimeout, _time, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        var left = _running.Values.ToArray();
        Log.ShutdownTimedOut(_logger, left.Length);
        foreach (var run in left)
        {
            run.Cancel(CancelReason.Shutdown);
        }

        // Handlers that honour their token end almost at once and report Release themselves. Handlers that ignore
        // it are abandoned: their jobs are released now so that another worker can run them.
        try
        {
            await runners.WaitAsync(TimeSpan.FromSeconds(2), _time, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            foreach (var run in left)
            {
                if (run.TryFinish())
                {
                    _outcomes.Writer.TryWrite(new JobOutcome(run.Job.Id, JobOutcomeKind.Release, run.Job.Attempt));
                }
            }
        }
    }

    /// <summary>The outcome of a job cancelled, lost or shut down while it waited in the prefetch buffer.</summary>
    private static JobOutcome? NotStartedOutcome(RunningJob run) => run.Reason switch
    {
        CancelReason.UserCancel => new JobOutcome(run.Job.Id, JobOutcomeKind.Cancelled, run.Job.Attempt, Error: "Cancelled before it started."),
        CancelReason.LeaseLost => null,
        _ => new JobOutcome(run.Job.Id, JobOutcomeKind.Release, run.Job.Attempt),
    };

    private async Task RunnerLoopAsync()
    {
        var reader = _ready.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var run))
            {
                try
                {
                    await RunJobAsync(run).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Log.MiddlewareFailed(_logger, ex, nameof(JobWorker), "run");
                }
            }
        }
    }

    private async Task RunJobAsync(RunningJob run)
    {
        var job = run.Job;
        JobOutcome? outcome = null;
        try
        {
            if (_stopClaiming.IsCancellationRequested)
            {
                run.Cancel(CancelReason.Shutdown); // stopping: buffered jobs are not started any more
            }

            outcome = run.Reason == CancelReason.None ? await ExecuteAsync(run).ConfigureAwait(false) : NotStartedOutcome(run);
        }
        finally
        {
            run.Telemetry?.Stop(outcome);
            if (outcome is { } o && run.TryFinish())
            {
                _outcomes.Writer.TryWrite(o);
            }
            else if (outcome is null)
            {
                _owned.TryRemove(job.Id, out _);
            }

            _running.TryRemove(job.Id, out _);
            run.Dispose();
            _slots!.Release();
        }
    }

    private async Task<JobOutcome?> ExecuteAsync(RunningJob run)
    {
        var job = run.Job;
        run.Telemetry = JobsInstrumentation.StartProcess(_driver.QueueName, job, _time);
        if (!_queue.Registry.TryGet(job.Name, out var definition))
        {
            var error = new UnknownJobException(
                $"No handler is registered for job '{job.Name}' in worker {WorkerId}. Register it with AddJob/Add{{Job}} or AddGeneratedJobs(), " +
                "or run this job on a worker that handles it.");
            run.Telemetry?.SetDiscarded(error);
            return await UnrunnableAsync(job, error).ConfigureAwait(false);
        }

        object decoded;
        try
        {
            decoded = definition.Decode(job.Payload);
        }
        catch (JobDecodeException ex)
        {
            run.Telemetry?.SetDiscarded(ex);
            return await UnrunnableAsync(job, ex).ConfigureAwait(false);
        }

        await InvokeHooksAsync(m => m.OnPopAsync(new JobPopContext(job.Id, job.Name, _driver.QueueName, job.Attempt, decoded, null), run.Token), "OnPop").ConfigureAwait(false);

        var scope = _scopeFactory.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            using var logScope = _logger.BeginScope(new JobLogScope(job.Id, job.Name));
            var context = new JobContext(job.Id, job.Name, _driver.QueueName, job.Attempt, job.MaxAttempts, job.QueuedAt,
                ParseTime(job.Headers, JobHeaders.ScheduledAt), ParseTime(job.Headers, JobHeaders.NextScheduledAt), WorkerId, _logger,
                scope.ServiceProvider, job.Headers);
            if (definition.Timeout is { } timeout)
            {
                run.SetTimeout(timeout, _time);
            }

            try
            {
                var token = run.Token;
                Func<Task> next = () => definition.InvokeAsync(scope.ServiceProvider, decoded, context, token);
                if (_middleware.Length > 0)
                {
                    var execution = new JobExecutionContext(decoded, context);
                    for (var i = _middleware.Length - 1; i >= 0; i--)
                    {
                        var middleware = _middleware[i];
                        var inner = next;
                        next = () => middleware.HandleAsync(execution, inner, token);
                    }
                }

                await next().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                return await FailedAttemptAsync(run, definition, decoded, ex).ConfigureAwait(false);
            }
        }

        Log.JobCompleted(_logger, job.Id, job.Name);
        await CompletedHookAsync(job, JobOutcomeKind.Completed, null).ConfigureAwait(false);
        return new JobOutcome(job.Id, JobOutcomeKind.Completed, job.Attempt);
    }

    private async Task<JobOutcome?> FailedAttemptAsync(RunningJob run, JobDefinition definition, object decoded, Exception ex)
    {
        var job = run.Job;
        if (ex is OperationCanceledException)
        {
            switch (run.Reason)
            {
                case CancelReason.Shutdown:
                    return new JobOutcome(job.Id, JobOutcomeKind.Release, job.Attempt);
                case CancelReason.LeaseLost:
                    return null;
                case CancelReason.UserCancel:
                    Log.JobCancelled(_logger, job.Id, job.Name);
                    await CompletedHookAsync(job, JobOutcomeKind.Cancelled, ex).ConfigureAwait(false);
                    return new JobOutcome(job.Id, JobOutcomeKind.Cancelled, job.Attempt, Error: "Cancelled while running.");
                case CancelReason.Timeout:
                    ex = new JobTimeoutException($"Job '{job.Name}' timed out after {definition.Timeout} on attempt {job.Attempt}.", ex);
                    break;
            }
        }

        run.Telemetry?.SetError(ex);
        if (ex is JobRescheduleException reschedule)
        {
            var delay = reschedule.Until is { } until ? until - _time.GetUtcNow() : reschedule.Delay ?? TimeSpan.Zero;
            var nextAttempt = reschedule.Attempts switch
            {
                RescheduleAttempts.Reset => 1,
                RescheduleAttempts.Increment => job.Attempt + 1,
                _ => job.Attempt,
            };
            return new JobOutcome(job.Id, JobOutcomeKind.Reschedule, job.Attempt, delay < TimeSpan.Zero ? TimeSpan.Zero : delay, nextAttempt);
        }

        var error = FormatError(ex);
        var strategy = definition.RetryStrategy
            ?? (job.MaxAttempts > 0 && _queue.Options.DefaultRetryStrategy is ExponentialJitterRetryStrategy d
                ? new ExponentialJitterRetryStrategy(job.MaxAttempts, d.MaxBackoff, d.Jitter)
                : _queue.Options.DefaultRetryStrategy);
        if (job.Attempt < job.MaxAttempts && strategy.ShouldRetry(job.Attempt, ex))
        {
            var delay = strategy.GetDelay(job.Attempt, ex);
            Log.JobRetrying(_logger, ex, job.Id, job.Name, job.Attempt, delay);
            var options = new JobOptions { Priority = job.Priority, DelayUntil = _time.GetUtcNow() + delay };
            await InvokeHooksAsync(m => m.OnPushAsync(new JobPushContext(job.Id, job.Name, _driver.QueueName, job.Attempt + 1, decoded, options), CancellationToken.None), "OnPush").ConfigureAwait(false);
            return new JobOutcome(job.Id, JobOutcomeKind.Retry, job.Attempt, delay, job.Attempt + 1, error);
        }

        Log.JobFailed(_logger, ex, job.Id, job.Name, job.Attempt);
        await CompletedHookAsync(job, JobOutcomeKind.Failed, ex).ConfigureAwait(false);
        return new JobOutcome(job.Id, JobOutcomeKind.Failed, job.Attempt, Error: error);
    }

    private async Task<JobOutcome> UnrunnableAsync(ClaimedJob job, Exception error)
    {
        Log.JobUnrunnable(_logger, job.Id, job.Name, error.Message);
        await InvokeHooksAsync(m => m.OnPopAsync(new JobPopContext(job.Id, job.Name, _driver.QueueName, job.Attempt, null, error), CancellationToken.None), "OnPop").ConfigureAwait(false);
        await CompletedHookAsync(job, JobOutcomeKind.Failed, error).ConfigureAwait(false);
        return new JobOutcome(job.Id, JobOutcomeKind.Failed, job.Attempt, Error: FormatError(error));
    }

    private ValueTask CompletedHookAsync(ClaimedJob job, JobOutcomeKind kind, Exception? error)
        => _middleware.Length == 0
            ? default
            : InvokeHooksAsync(m => m.OnCompletedAsync(new JobCompletedContext(job.Id, job.Name, _driver.QueueName, job.Attempt, kind, error), CancellationToken.None), "OnCompleted");

    private async ValueTask InvokeHooksAsync(Func<IJobMiddleware, ValueTask> hook, string name)
    {
        foreach (var middleware in _middleware)
        {
            try
            {
                await hook(middleware).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.MiddlewareFailed(_logger, ex, middleware.GetType().Name, name);
            }
        }
    }

    private string FormatError(Exception ex)
    {
        var text = $"{ex.GetType().FullName}: {ex.Message}";
        var max = Math.Max(_queue.Options.MaxErrorLength, 64);
        return text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
    }

    private async Task CompleteLoopAsync()
    {
        var reader = _outcomes.Reader;
        var batch = new List<JobOutcome>(256);
        var failures = 0;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < 2000 && reader.TryRead(out var outcome))
            {
                batch.Add(outcome);
            }

            while (true)
            {
                try
                {
                    await _driver.CompleteAsync(WorkerId, batch, CancellationToken.None).ConfigureAwait(false);
                    failures = 0;
                    break;
                }
                catch (Exception ex)
                {
                    var delay = Backoff(++failures);
                    Log.CompleteFailed(_logger, ex, batch.Count, delay);
                    await DelayAsync(delay, CancellationToken.None).ConfigureAwait(false);
                }
            }

            foreach (var outcome in batch)
            {
                _owned.TryRemove(outcome.Id, out _);
            }

            batch.Clear();
        }
    }

    private async Task HeartbeatLoopAsync()
    {
        var stop = _stopBackground.Token;
        var interval = _options.LeaseDuration / 3;
        while (!stop.IsCancellationRequested)
        {
            await DelayAsync(interval, stop).ConfigureAwait(false);
            if (stop.IsCancellationRequested)
            {
                break;
            }

            MarkAlive();
            var owned = _owned.Keys.ToArray();
            if (owned.Length == 0)
            {
                Interlocked.Exchange(ref _lastRenewalTicks, _time.GetTimestamp());
                continue;
            }

            try
            {
                var result = await _driver.RenewLeasesAsync(WorkerId, owned, _options.LeaseDuration, stop).ConfigureAwait(false);
                Interlocked.Exchange(ref _lastRenewalTicks, _time.GetTimestamp());
                foreach (var id in result.Lost)
                {
                    if (_running.TryGetValue(id, out var run))
                    {
                        Log.LeaseLost(_logger, id);
                        run.Cancel(CancelReason.LeaseLost);
                    }
                }

                foreach (var id in result.CancelRequested)
                {
                    OnRunningJobCancelled(id);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Log.RenewFailed(_logger, ex);
                // Without a renewal for a whole lease, other workers may rescue our jobs: stop running them here so
                // that no job ever runs twice at once.
                if (_time.GetElapsedTime(Interlocked.Read(ref _lastRenewalTicks)) >= _options.LeaseDuration)
                {
                    foreach (var run in _running.Values)
                    {
                        Log.LeaseLost(_logger, run.Job.Id);
                        run.Cancel(CancelReason.LeaseLost);
                    }
                }
            }
        }
    }

    private async Task RescueLoopAsync()
    {
        var stop = _stopBackground.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var rescued = await _driver.RescueExpiredLeasesAsync(stop).ConfigureAwait(false);
                if (rescued > 0)
                {
                    Log.Rescued(_logger, rescued);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Log.RescueFailed(_logger, ex);
            }

            await DelayAsync(_options.RescueInterval, stop).ConfigureAwait(false);
        }
    }

    private void OnRunningJobCancelled(JobId id)
    {
        if (_running.TryGetValue(id, out var run))
        {
            run.Cancel(CancelReason.UserCancel);
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static TimeSpan Backoff(int failures)
        => TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures - 1, 10))));

    private static DateTimeOffset? ParseTime(IReadOnlyDictionary<string, string>? headers, string key)
        => headers is not null && headers.TryGetValue(key, out var text)
            && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var value)
            ? value
            : null;

    private enum CancelReason
    {
        None,
        Timeout,
        UserCancel,
        LeaseLost,
        Shutdown,
    }

    private sealed class RunningJob(ClaimedJob job) : IDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private CancellationTokenSource? _timeout;
        private CancellationTokenRegistration _timeoutRegistration;
        private int _reason;
        private int _finished;

        public ClaimedJob Job { get; } = job;
        public JobProcessTelemetry? Telemetry { get; set; }
        public CancellationToken Token => _cts.Token;
        public CancelReason Reason => (CancelReason)Volatile.Read(ref _reason);

        public void Cancel(CancelReason reason)
        {
            if (Interlocked.CompareExchange(ref _reason, (int)reason, (int)CancelReason.None) == (int)CancelReason.None)
            {
                try
                {
                    _cts.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        public void SetTimeout(TimeSpan timeout, TimeProvider time)
        {
            _timeout = new CancellationTokenSource(timeout, time);
            _timeoutRegistration = _timeout.Token.Register(static s => ((RunningJob)s!).Cancel(CancelReason.Timeout), this);
        }

        /// <summary>Exactly one outcome is reported per claim: by the handler's end or by shutdown abandonment.</summary>
        public bool TryFinish() => Interlocked.Exchange(ref _finished, 1) == 0;

        public void Dispose()
        {
            _timeoutRegistration.Dispose();
            _timeout?.Dispose();
            _cts.Dispose();
        }
    }

    private sealed class JobLogScope(JobId id, string name) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("JobId", id),
            1 => new("JobName", name),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public int Count => 2;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
            yield return this[1];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"JobId:{id} JobName:{name}";
    }
}
