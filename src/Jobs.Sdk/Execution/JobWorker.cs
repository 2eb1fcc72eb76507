using System.Diagnostics;
using System.Threading.Channels;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
    // This type is the lifecycle and the claim loop. One claimed job becomes one outcome in JobExecutor; outcomes are
    // written by JobCompleter; leases and liveness are kept by JobLeaseKeeper; expired leases are rescued by JobRescuer.

    /// <summary>How long a busy worker waits for more free slots before a claim (micro-batching of claims).</summary>

    private readonly IJobDriver _driver;
    private readonly JobWorkerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly JobExecutor _executor;
    private readonly JobLeaseKeeper _leases;
    private readonly JobCompleter _completer;
    private readonly JobRescuer _rescuer;
    private readonly StoreWrites _writes;
    private readonly UnhandledJobMonitor _unhandled;
    private readonly string[] _jobNames;
    private readonly Channel<JobRun> _ready = Channel.CreateUnbounded<JobRun>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly CancellationTokenSource _stopClaiming = new();
    private readonly CancellationTokenSource _stopBackground = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstClaimReturned = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SemaphoreSlim? _slots;
    private PrefetchSizer? _sizer;
    private int _buffer;   // the most jobs this worker may hold beyond Concurrency
    private long _claims; // claims sent (Claims)
    private int _reserved; // buffer slots the claim loop holds back (the part of the buffer it does not want now)
    private Task? _claimLoop;
    private Task[] _runners = [];
    private Task? _completerLoop;
    private Task? _heartbeat;
    private Task? _watchdog;
    private Task? _background;
    private Task? _rescuerLoop;
    private Task? _unhandledLoop;
    private int _started;
    private int _disposed;
    private long _handedOver; // runs written to _ready (by the claim loop only)
    private long _runsEnded; // runs a runner ended (RunJobAsync), or the stop gave back from the buffer

    internal JobWorker(JobsRuntime runtime, IServiceScopeFactory scopeFactory, IOptions<JobWorkerOptions> options, ILogger<JobWorker>? logger = null,
        IReadOnlyList<QueueOptions>? queues = null)
        : this(runtime, scopeFactory, options.Value, logger, queues, workerId: null)
    {
    }

    private JobWorker(JobsRuntime runtime, IServiceScopeFactory scopeFactory, JobWorkerOptions options, ILogger? logger,
        IReadOnlyList<QueueOptions>? queues, string? workerId, IReadOnlyList<QueueOptions>? lanes = null, MaintenanceTurn? turn = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(scopeFactory);
        ArgumentNullException.ThrowIfNull(options);
        _driver = runtime.Driver;
        _options = queues is null ? options : ForQueue(options, runtime.QueueName, queues);
        _options.Validate();
        _logger = GuardedLogger.For(logger);
        _time = runtime.TimeProvider;
        WorkerId = workerId ?? _options.WorkerId ?? $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
        _executor = new JobExecutor(runtime, scopeFactory, WorkerId, _logger);
        _writes = new StoreWrites(_time);
        _leases = new JobLeaseKeeper(_driver, WorkerId, _options.LeaseDuration, _time, _logger) { Writes = _writes };
        Throughput = new JobThroughputCounter(runtime.QueueName);
        _completer = new JobCompleter(_driver, WorkerId, _leases, _time, _logger, maxBacklog: Math.Max(JobCompleter.MaxBatch, 4 * (_options.Concurrency + _options.Prefetch)))
        {
            Throughput = Throughput,
            Writes = _writes,
        };
        // After an outage the holders of the leases it ended renew them or record their outcomes (a renewal every third of
        // a lease, an outcome retry within the longest backoff) before this worker's rescue may requeue them.
        // A host's worker (AddWorkers) and its lanes take turns for their maintenance: see MaintenanceTurn.
        _maintenance = queues is null ? turn : new MaintenanceTurn();
        var slot = _maintenance?.Join() ?? 0;
        _rescuer = new JobRescuer(_driver, _options.RescueInterval, _time, _logger)
        {
            Writes = _writes,
            AfterOutage = _options.LeaseDuration / 3 + WorkerDelay.MaxBackoff,
            Turn = _maintenance,
            Slot = slot,
        };
        _unhandled = new UnhandledJobMonitor(_driver, runtime.Registry, _options, _time, _logger) { Turn = _maintenance, Slot = slot };
        _jobNames = [.. runtime.Registry.Names];
        _lanes = queues is null ? [] : CreateLanes(runtime, scopeFactory, options, queues);
        var declared = (queues ?? lanes)?.FirstOrDefault(q => string.Equals(q.Name, runtime.QueueName, StringComparison.Ordinal));
        _globalConcurrency = declared?.GlobalConcurrency;
        _rateLimit = declared?.RateLimit;
    }

    /// <summary>This worker's id, recorded with every job it claims.</summary>
    public string WorkerId { get; }

    /// <summary>This worker's finished jobs per minute (reported by <see cref="JobPresenceService"/>).</summary>
    internal JobThroughputCounter Throughput { get; }

    /// <summary>Number of jobs running now (in every queue this worker serves).</summary>
    public int RunningCount => _leases.RunningCount + LanesRunningCount;


    /// <summary>Completes when the worker has stopped (after <see cref="StopAsync"/>, or when it failed to start).</summary>
    public Task Completion => _drained.Task;

    /// <summary>Starts claiming and running jobs. Returns at once; waits for the store (migrations) in the background.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("This JobWorker was already started.");
        }

        var adaptive = _options.Prefetch == 0 && _options.AdaptivePrefetch;
        _buffer = adaptive ? PrefetchSizer.Max : _options.Prefetch;
        _sizer = adaptive ? PrefetchSizer.Adaptive(_options.Concurrency, _options.PrefetchMaxBytes)
            : _buffer > 0 ? PrefetchSizer.Fixed(_buffer, _options.PrefetchMaxBytes) : null;
        _reserved = _buffer - (_sizer?.Target ?? 0);
        var capacity = _options.Concurrency + _buffer;
        _slots = new SemaphoreSlim(capacity - _reserved, capacity);
        // The loops (and the driver's listener the subscriptions start) run outside the caller's trace and logging scope.
        DetachedContext.Run(() =>
        {
            _driver.RunningJobCancelled += _leases.CancelRequested;
            _driver.QueuePaused += OnQueuePaused;
            WatchForStalls();
            _claimLoop = Task.Run(RunAsync, CancellationToken.None);
            StartLanes(cancellationToken);
        });
        return Task.CompletedTask;
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
            ReleaseThreads();
            _drained.TrySetException(ex);
            _ = _drained.Task.Exception; // observed: an app that never awaits Completion must not see it again at a random GC
            // Logged, and Completion carries it: the loop itself ends without a fault, which every wait for it (WaitAsync
            // makes a task of its own when the loop has not ended yet) would otherwise leave unobserved.
            return;
        }

        var background = _stopBackground.Token;
        _completerLoop = Task.Run(_completer.RunAsync, CancellationToken.None);
        _heartbeat = Task.Run(() => _leases.RunAsync(background), CancellationToken.None);
        _watchdog = Task.Run(() => _leases.WatchAsync(background), CancellationToken.None);
        _rescuerLoop = Task.Run(() => _rescuer.RunAsync(_firstClaimReturned.Task, background), CancellationToken.None);
        _unhandledLoop = Task.Run(() => _unhandled.RunAsync(background), CancellationToken.None);
        _pauseWatch = Task.Run(() => WatchForPauseAsync(background), CancellationToken.None);
        _runners = Enumerable.Range(0, _options.Concurrency).Select(_ => Task.Run(RunnerLoopAsync, CancellationToken.None)).ToArray();
        Log.WorkerStarted(_logger, WorkerId, _driver.QueueName, _options.Concurrency);

        var slots = _slots!;
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            _leases.MarkAlive();
            AdjustBuffer(slots);
            try
            {
                await slots.WaitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            var free = KeepForReserve(1 + ClaimSlots.TakeFree(slots, _options.Concurrency + _buffer - _reserved - 1));
            if (free == 0)
            {
                continue;
            }

            var capacity = _options.Concurrency + _buffer - _reserved;
            if (free * 2 < capacity && !_leases.IsIdle)
            {
                // Busy: jobs are finishing one after another. Give them a moment so that one claim (one round trip, one
                // commit) fills several slots instead of one. An idle worker claims at once, so latency is unaffected.
                free += await ClaimSlots.GatherAsync(slots, capacity / 2 - free, stop).ConfigureAwait(false);
            }

            IReadOnlyList<ClaimedJob> claimed;
            long sent, pausesHeard, claimTicks;
            int? startingNow;
            TimeSpan? tokensDueIn;
            try
            {
                // A full outcome backlog (the store is slow or away) stops claiming until the completer catches up.
                await _completer.WaitForRoomAsync(stop).ConfigureAwait(false);
                sent = _time.GetTimestamp();
                pausesHeard = PausesHeard;
                startingNow = StartingNow(free);
                var claimStarted = Stopwatch.GetTimestamp();
                (claimed, tokensDueIn) = await ClaimAsync(
                    new JobClaimRequest(WorkerId, free, _options.LeaseDuration)
                    {
                        JobNames = _jobNames, StartingNow = startingNow, GlobalConcurrency = _globalConcurrency, RateLimit = _rateLimit,
                    }, stop).ConfigureAwait(false);
                claimTicks = Stopwatch.GetTimestamp() - claimStarted;
                Interlocked.Increment(ref _claims);
                _writes.Worked(); // a claim writes (even one that finds nothing)
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
                _writes.Failed();
                var delay = WorkerDelay.Backoff(++failures);
                Log.ClaimFailed(_logger, ex, delay);
                await WorkerDelay.DelayAsync(delay, _time, stop).ConfigureAwait(false);
                continue;
            }

            if (claimed.Count < free)
            {
                slots.Release(free - claimed.Count);
            }

            var claimReturned = _time.GetTimestamp();
            var runs = new JobRun[claimed.Count];
            long payloadBytes = 0;
            for (var i = 0; i < claimed.Count; i++)
            {
                var run = runs[i] = new JobRun(claimed[i]) { ClaimedTimestamp = claimReturned, Logger = _logger };
                payloadBytes += claimed[i].Payload.Length;
                if (startingNow is not { } n || i < n)
                {
                    run.RecordStart(); // the claim recorded its start: a runner takes it at once
                }

                _leases.Claimed(run, sent);
            }

            _sizer?.Claimed(claimTicks, claimed.Count, payloadBytes);
            ReleaseBufferedIfPausedSince(pausesHeard, runs, startingNow ?? runs.Length);
            await HandOverAsync(runs).ConfigureAwait(false);

            if (claimed.Count < free)
            {
                // The queue has nothing more due right now: sleep until a push notification or the poll interval; or a
                // limit cut the claim short: sleep until enough tokens are due, or briefly (global concurrency).
                await WaitAfterShortClaimAsync(claimed.Count, tokensDueIn, stop).ConfigureAwait(false);
            }
        }
    }

    private async Task RunnerLoopAsync()
    {
        var reader = _ready.Reader;
        while (true)
        {
            JobRun run;
            try
            {
                // Each job goes to one waiting runner. (Runners waiting in WaitToReadAsync were all woken by every job, and
                // all but one found nothing: an idle worker of Concurrency 16 queued 16 thread-pool work items per job.)
                run = await reader.ReadAsync().ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                return; // the stop completed the channel and its buffered jobs were given back
            }

            try
            {
                var started = Stopwatch.GetTimestamp();
                await RunJobAsync(run).ConfigureAwait(false);
                _sizer?.JobRan(Stopwatch.GetTimestamp() - started);
            }
            catch (Exception ex)
            {
                Log.MiddlewareFailed(_logger, ex, nameof(JobWorker), "run");
            }
        }
    }

    private async Task RunJobAsync(JobRun run)
    {
        JobRunResult result = default;
        try
        {
            if (_stopClaiming.IsCancellationRequested)
            {
                run.Cancel(CancelReason.Shutdown); // stopping: buffered jobs are not started any more
            }
            else if (run.Reason == CancelReason.None && run.LeaseEnd <= _time.GetTimestamp())
            {
                // The lease may already have been rescued and the job claimed by another worker: a claim whose reply came
                // after its lease ended, or a buffered claim whose renewals failed before the watchdog's next look.
                Log.LeaseEndedBeforeStart(_logger, run.Job.Id);
                run.Cancel(CancelReason.LeaseLost);
            }

            if (run.Reason == CancelReason.None && run.TryTake())
            {
                run.Start(_time.GetTimestamp());
                result = await _executor.ExecuteAsync(run).ConfigureAwait(false);
            }
            else
            {
                result = new JobRunResult(run.NotStartedOutcome());
            }
        }
        finally
        {
            Finish(run, result.Outcome, result.OnRecorded);
            run.Dispose();
            Interlocked.Increment(ref _runsEnded);
            _slots!.Release();
        }
    }

    /// <summary>Hands a run's outcome to the completer (once per claim); no outcome means its lease is simply dropped.</summary>
    private void Finish(JobRun run, JobOutcome? outcome, Func<CancellationToken, ValueTask>? onRecorded = null)
    {
        if (outcome is { } o && run.TryFinish())
        {
            _completer.Report(o with { LeaseToken = run.Job.LeaseToken }, onRecorded);
        }
        else if (outcome is null)
        {
            _leases.Release(run.Job.LeaseToken);
        }

        _leases.Ended(run);
    }
}
