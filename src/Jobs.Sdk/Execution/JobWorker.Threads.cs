namespace Jobs.Sdk;

/// <content>
/// Thread-pool threads for handlers that block: a started worker raises the pool's minimum by its
/// <see cref="JobWorkerOptions.Concurrency"/> until it has stopped.
/// </content>
/// <remarks>
/// Runners, the heartbeat, the watchdog and the driver's I/O continuations all run on the thread pool. A handler that blocks
/// its thread (synchronous I/O, <c>Thread.Sleep</c>, a wait) holds one pool thread, and past the pool's minimum (the number
/// of cores) the pool adds threads only about twice a second. With more blocking handlers than cores, the heartbeat would
/// wait its turn for seconds (Concurrency 16 on 2 cores: about 7 s; 100: about 50 s), leases would end on the server while
/// their handlers still run, and a rescue would run those jobs a second time at once. At most Concurrency handlers run at
/// once, so with the minimum raised by that many the pool starts a thread at once for everything else, however many block.
/// </remarks>
public sealed partial class JobWorker
{
    private static readonly Lock ThreadReserveGate = new();
    private int _reservedThreads;

    /// <summary>Raises the pool's minimum worker threads by <see cref="JobWorkerOptions.Concurrency"/> (at most to its maximum).</summary>
    private void ReserveThreads()
    {
        lock (ThreadReserveGate)
        {
            ThreadPool.GetMinThreads(out var workers, out var io);
            ThreadPool.GetMaxThreads(out var maxWorkers, out _);
            var raised = Math.Min(workers + _options.Concurrency, maxWorkers);
            if (raised > workers && ThreadPool.SetMinThreads(raised, io))
            {
                _reservedThreads = raised - workers;
            }
        }
    }

    /// <summary>Gives back what <see cref="ReserveThreads"/> added, once (the worker stopped and its handlers returned).</summary>
    private void ReleaseThreads()
    {
        lock (ThreadReserveGate)
        {
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
