using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk;

// Many queues in one process: the worker AddWorkers registers serves the driver's queue itself and runs one lane (a
// worker of the same kind on the runtime of that queue) for every other queue declared with AddQueue or named by a
// registered job type. Lanes have their own slots, claims, wake-ups, leases and rescue, so a paused or busy queue never
// holds up another; they share the driver's connections and its one LISTEN connection, and take turns for their
// maintenance (MaintenanceTurn: rescue passes and unhandled-job checks one after another, spread over the interval).
public sealed partial class JobWorker
{
    private readonly JobWorker[] _lanes;
    private readonly MaintenanceTurn? _maintenance;
    private readonly int? _globalConcurrency;
    private readonly RateLimit? _rateLimit;

    private int LanesRunningCount
    {
        get
        {
            var count = 0;
            foreach (var lane in _lanes)
            {
                count += lane.RunningCount;
            }

            return count;
        }
    }

    /// <summary>The workers of the other queues this worker serves (one per queue).</summary>
    internal IReadOnlyList<JobWorker> Lanes => _lanes;

    /// <summary>The queue this worker claims from (a lane's own queue for a lane).</summary>
    internal string QueueName => _driver.QueueName;

    /// <summary>The rescue passes this worker ran for its own queue (tests wait on it).</summary>
    internal long RescuePasses => _rescuer.Passes;

    /// <summary>The claims this worker sent for its own queue, idle polls included (tests wait on it).</summary>
    internal long Claims => Volatile.Read(ref _claims);

    /// <summary>The names of the queues this worker serves: its own first, then its lanes'.</summary>
    internal IReadOnlyList<string> QueueNames => [_driver.QueueName, .. _lanes.Select(l => l._driver.QueueName)];

    /// <summary>
    /// The options of the lane of <paramref name="queue"/>: its declared concurrency, the worker's otherwise; no prefetch
    /// buffer when the queue is rate-limited, and no adaptive one when it has a global concurrency limit.
    /// </summary>
    private static JobWorkerOptions ForQueue(JobWorkerOptions options, string queue, IReadOnlyList<QueueOptions> queues)
    {
        var declared = queues.FirstOrDefault(q => string.Equals(q.Name, queue, StringComparison.Ordinal));
        var concurrency = declared?.Concurrency ?? options.Concurrency;
        // A rate-limited queue claims only jobs it starts at once: a token spent on a buffered job would let it start
        // later than its token allowed, bunched with others.
        var rateLimited = declared?.RateLimit is not null;
        // A globally limited queue counts buffered jobs as running: an adaptive buffer (on by default, with Prefetch 0)
        // held the cluster's slots in one process while the others had free runners and nothing to run. A Prefetch
        // asked for is kept (the README says it counts against the limit).
        var adaptive = options.AdaptivePrefetch && !rateLimited && declared?.GlobalConcurrency is null;
        return concurrency == options.Concurrency && !rateLimited && adaptive == options.AdaptivePrefetch
            ? options
            : new JobWorkerOptions
            {
                Concurrency = concurrency,
                Prefetch = rateLimited ? 0 : options.Prefetch,
                AdaptivePrefetch = adaptive,
                PrefetchMaxBytes = options.PrefetchMaxBytes,
                ShutdownTimeout = options.ShutdownTimeout,
                LeaseDuration = options.LeaseDuration,
                RescueInterval = options.RescueInterval,
                UnhandledJobWarningAfter = options.UnhandledJobWarningAfter,
                UnhandledJobCheckInterval = options.UnhandledJobCheckInterval,
                WorkerId = options.WorkerId,
            };
    }

    private JobWorker[] CreateLanes(JobsRuntime runtime, IServiceScopeFactory scopeFactory, JobWorkerOptions options, IReadOnlyList<QueueOptions> queues)
    {
        var names = new List<string>();
        foreach (var name in queues.Select(q => q.Name).Concat(runtime.Registry.Definitions.Select(d => d.Queue).OfType<string>()))
        {
            if (!string.Equals(name, runtime.QueueName, StringComparison.Ordinal) && !names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
        }

        return names
            .Select(name => new JobWorker(runtime.ForQueue(name), scopeFactory, ForQueue(options, name, queues), _logger, queues: null,
                workerId: WorkerId + "/" + name, lanes: queues, turn: _maintenance))
            .ToArray();
    }

    private void StartLanes(CancellationToken cancellationToken)
    {
        foreach (var lane in _lanes)
        {
            lane.StartAsync(cancellationToken);
        }
    }

    private Task StopLanesAsync(CancellationToken cancellationToken)
        => _lanes.Length == 0 ? Task.CompletedTask : Task.WhenAll(_lanes.Select(l => l.StopAsync(cancellationToken)));

    private async Task DisposeLanesAsync()
    {
        foreach (var lane in _lanes)
        {
            await lane.DisposeAsync().ConfigureAwait(false);
        }
    }
}
