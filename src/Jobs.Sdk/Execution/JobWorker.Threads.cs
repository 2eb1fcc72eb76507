namespace Jobs.Sdk;

/// <content>
/// Thread-pool threads for handlers that block: when the pool stalls while the worker runs, the worker raises the pool's
/// minimum by its <see cref="JobWorkerOptions.Concurrency"/> until it has stopped.
/// </content>
/// <remarks>
/// <para>Runners, the heartbeat, the watchdog and the driver's I/O continuations all run on the thread pool. A handler that
/// blocks its thread (synchronous I/O, <c>Thread.Sleep</c>, a wait) holds one pool thread, and past the pool's minimum (the
/// number of cores) the pool adds threads only about twice a second. With more blocking handlers than cores, the heartbeat
/// would wait its turn for seconds (Concurrency 16 on 2 cores: about 7 s; 100: about 50 s), leases would end on the server
/// while their handlers still run, and a rescue would run those jobs a second time at once.</para>
/// <para>A thread of the worker's own (not a pool thread, so it runs however starved the pool is) looks every
/// <see cref="StallCheckInterval"/>: work waiting in the pool while the pool finished none since the last look, or while a
/// no-op work item it queued at the last look still waits (handlers blocking in <c>.Result</c>: see StallWatch), twice in a
/// row, is a stall. The worker then raises the minimum by its Concurrency (at most that many handlers run at once, so the
/// pool then starts a thread at once for everything else, however many block) and stops looking. Workers whose handlers
/// never block never stall the pool and leave its minimum alone: a raised minimum lets the pool wake more threads for
/// short bursts of work, which costs an asynchronous drain about 5% more client CPU.</para>
/// </remarks>
public sealed partial class JobWorker
{
    /// <summary>How often the stall watch looks at the thread pool.</summary>
    internal static readonly TimeSpan StallCheckInterval = TimeSpan.FromMilliseconds(100);

    private static readonly Lock ThreadReserveGate = new();
    private readonly ManualResetEventSlim _stallWatchStop = new();
    private int _reservedThreads;

    /// <summary>Starts the stall watch on a thread of its own (ended by <see cref="ReleaseThreads"/>).</summary>
    private void WatchForStalls()
    {
        var thread = new Thread(StallWatch) { IsBackground = true, Name = "Jobs.Sdk stall watch" };
        thread.Start();
    }

    private void StallWatch()
    {
        var completed = ThreadPool.CompletedWorkItemCount;
        var stalled = 0;
        StallProbe? probe = null;
        while (!_stallWatchStop.Wait(StallCheckInterval))
        {
            var now = ThreadPool.CompletedWorkItemCount;
            // A probe queued a look ago that has not run yet: work queued now (a heartbeat's timer) waits a look or more.
            // Handlers that block in .Result / .Wait() let the pool add threads as they block, so it finishes work all the
            // while and "none finished" never holds, but each new thread takes the next handler and blocks too: the
            // renewals queued behind them waited seconds (Concurrency 16 on 2 cores: about 2.5 s).
            var late = probe is { Ran: false };
            var pending = ThreadPool.PendingWorkItemCount > 0;
            stalled = pending && (now == completed || late) ? stalled + 1 : 0;
            completed = now;
            if (stalled >= 2)
            {
                ReserveThreads();
                return;
            }

            if (pending && !late)
            {
                probe = new StallProbe();
                ThreadPool.UnsafeQueueUserWorkItem(probe, preferLocal: false);
            }
        }
    }

    /// <summary>A no-op work item queued behind the pool's waiting work: whether it ran tells how long that work waits.</summary>
    private sealed class StallProbe : IThreadPoolWorkItem
    {
        private volatile bool _ran;

        public bool Ran => _ran;

        public void Execute() => _ran = true;
    }

    /// <summary>Raises the pool's minimum worker threads by <see cref="JobWorkerOptions.Concurrency"/> (at most to its maximum).</summary>
    private void ReserveThreads()
    {
        int reserved;
        lock (ThreadReserveGate)
        {
            if (_stallWatchStop.IsSet || _reservedThreads != 0)
            {
                return; // stopped meanwhile, or reserved already
            }

            ThreadPool.GetMinThreads(out var workers, out var io);
            ThreadPool.GetMaxThreads(out var maxWorkers, out _);
            var raised = Math.Min(workers + _options.Concurrency, maxWorkers);
            if (raised <= workers || !ThreadPool.SetMinThreads(raised, io))
            {
                return;
            }

            reserved = _reservedThreads = raised - workers;
        }

        Log.ThreadsReserved(_logger, WorkerId, reserved);
    }

    /// <summary>Ends the stall watch and gives back what <see cref="ReserveThreads"/> added, once (the worker stopped and its handlers returned).</summary>
    private void ReleaseThreads()
    {
        lock (ThreadReserveGate)
        {
            _stallWatchStop.Set();
            if (_reservedThreads == 0)
            {
                return;
            }

            ThreadPool.GetMinThreads(out var workers, out var io);
            ThreadPool.SetMinThreads(Math.Max(workers - _reservedThreads, 1), io);
            _reservedThreads = 0;
        }
    }
}
