namespace Jobs.Sdk;

/// <summary>Worker (processor) settings.</summary>
/// <remarks>
/// Checked when the worker is created (the host's start): <see cref="Concurrency"/> 1–100,000, <see cref="Prefetch"/>
/// 0–100,000, and every duration at most 4,294,967 seconds (<see cref="JobAttribute.MaxTimeoutSeconds"/>, the longest
/// timer .NET accepts); a value out of range throws <see cref="ArgumentOutOfRangeException"/> naming the option.
/// </remarks>
public sealed class JobWorkerOptions
{
    /// <summary>The largest <see cref="Concurrency"/> (and a declared queue's): slots, runners and claims stay countable.</summary>
    internal const int MaxConcurrency = 100_000;

    /// <summary>The largest <see cref="Prefetch"/>.</summary>
    internal const int MaxPrefetch = 100_000;

    /// <summary>
    /// Jobs running at once in this process. Default 16. When the thread pool stalls while the worker runs (handlers
    /// blocking their threads), the worker raises the pool's minimum worker threads by this many until it stops, so that
    /// lease renewals keep running (log event 1011).
    /// </summary>
    public int Concurrency { get; set; } = 16;

    /// <summary>
    /// Extra jobs to claim ahead of free worker slots and keep in a local buffer (default 0). Larger claims mean fewer
    /// database round trips per job (higher throughput for short jobs) at the cost of a buffered job possibly running
    /// after a higher-priority job pushed later. Buffered jobs are leased like running ones: if this process dies they
    /// return to the queue when the lease expires; on shutdown they are released at once. The buffer holds at most
    /// <see cref="PrefetchMaxBytes"/> of payload: fewer jobs than this when their payloads are large.
    /// </summary>
    public int Prefetch { get; set; }

    /// <summary>
    /// With <see cref="Prefetch"/> = 0 (the default), claim ahead adaptively (default <see langword="true"/>): the worker keeps
    /// about two claim round trips of work in its buffer — <c>Concurrency × 2 × claim time ÷ job time</c>, at most 512 —
    /// so short jobs are claimed hundreds at a time (one commit for many) while jobs that take longer than a claim are
    /// not buffered at all. A buffered job therefore waits about one claim round trip at most behind a higher-priority
    /// job pushed after it, and at most <see cref="PrefetchMaxBytes"/> of payload is buffered. <see langword="false"/>:
    /// claim only free slots. Queues declared with a <see cref="QueueOptions.RateLimit"/> or a
    /// <see cref="QueueOptions.GlobalConcurrency"/> never buffer adaptively (buffered jobs would spend their tokens, or hold
    /// the cluster's slots, before they start).
    /// </summary>
    public bool AdaptivePrefetch { get; set; } = true;

    /// <summary>
    /// The most payload the prefetch buffer holds, in bytes of UTF-8 JSON (default 16 MiB): the buffer, adaptive or
    /// <see cref="Prefetch"/>, takes no more jobs than fit, at the payload size of the jobs this worker claimed lately (a
    /// larger one counts at once, a smaller one gradually). Sizing the buffer by time alone, a worker whose handlers are
    /// fast would claim hundreds of large payloads (documents, embedded blobs) at once — hundreds of MB, an out-of-memory
    /// kill in a container with a memory limit. Only the buffer is limited: the jobs claimed for free runners are not,
    /// and neither is the first claim (no payload seen yet). A claim's reply takes about three times its payload while
    /// it is read (text, then UTF-8 bytes). Payloads up to 32 KiB leave the adaptive buffer's 512 jobs as they are.
    /// </summary>
    public long PrefetchMaxBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// On shutdown, how long running jobs may take to finish. Jobs still running after it are cancelled and put back
    /// to pending (not failed, attempt not counted). Default 30 s.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a claimed job stays owned by this worker without a heartbeat. The worker renews leases every third of
    /// it; a job whose worker died becomes runnable again (as its next attempt) once the lease expires. Default 30 s.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often this worker looks for expired leases of dead workers. Default 15 s. A host serving several queues
    /// (<c>AddQueue</c>) runs the passes of its queues one after another, spread over this interval, on one connection
    /// instead of one per queue at the same instant: a pass may wait for another queue's pass, at most one interval (a
    /// pass stuck on the store that long no longer holds the others back), so a dead worker's job is rescued within two
    /// intervals of its lease's end at worst, within one as before while the passes take less than the interval together.
    /// </summary>
    public TimeSpan RescueInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a due job whose name this worker has no handler for may wait before the worker logs a warning with its
    /// name and age (it is never claimed by this worker, see <see cref="UnhandledJobCheckInterval"/>). Default 5 min.
    /// </summary>
    public TimeSpan UnhandledJobWarningAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How often the worker looks for due jobs no handler of its own can run (one cheap query). Default 1 min. The
    /// queues of one host look one after another, spread over the interval, as their rescue passes do (see <see cref="RescueInterval"/>).
    /// </summary>
    public TimeSpan UnhandledJobCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A stable id for this worker; by default a new one per process (<c>machine:pid:random</c>). Stored with every claim
    /// and in the store's worker and throughput keys: no NUL characters or unpaired surrogates, at most 1,000 bytes of UTF-8.
    /// </summary>
    public string? WorkerId { get; set; }

    internal void Validate()
    {
        if (Concurrency is < 1 or > MaxConcurrency)
        {
            throw new ArgumentOutOfRangeException(nameof(Concurrency), Concurrency, $"JobWorkerOptions.Concurrency must be at least 1 and at most {MaxConcurrency}.");
        }

        if (Prefetch is < 0 or > MaxPrefetch)
        {
            throw new ArgumentOutOfRangeException(nameof(Prefetch), Prefetch, $"JobWorkerOptions.Prefetch must not be negative nor more than {MaxPrefetch}.");
        }

        if (PrefetchMaxBytes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(PrefetchMaxBytes), PrefetchMaxBytes, "JobWorkerOptions.PrefetchMaxBytes must be positive.");
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ShutdownTimeout), ShutdownTimeout, "JobWorkerOptions.ShutdownTimeout must not be negative.");
        }

        if (LeaseDuration < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(LeaseDuration), LeaseDuration, "JobWorkerOptions.LeaseDuration must be at least 1 second.");
        }

        if (UnhandledJobWarningAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(UnhandledJobWarningAfter), UnhandledJobWarningAfter,
                "JobWorkerOptions.UnhandledJobWarningAfter must not be negative.");
        }

        if (UnhandledJobCheckInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(UnhandledJobCheckInterval), UnhandledJobCheckInterval,
                "JobWorkerOptions.UnhandledJobCheckInterval must be positive.");
        }

        if (RescueInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RescueInterval), RescueInterval, "JobWorkerOptions.RescueInterval must be positive.");
        }

        JobTimeLimits.CheckTimer(ShutdownTimeout, "JobWorkerOptions.ShutdownTimeout", nameof(ShutdownTimeout));
        JobTimeLimits.CheckTimer(LeaseDuration, "JobWorkerOptions.LeaseDuration", nameof(LeaseDuration));
        JobTimeLimits.CheckTimer(RescueInterval, "JobWorkerOptions.RescueInterval", nameof(RescueInterval));
        JobTimeLimits.CheckTimer(UnhandledJobWarningAfter, "JobWorkerOptions.UnhandledJobWarningAfter", nameof(UnhandledJobWarningAfter));
        JobTimeLimits.CheckTimer(UnhandledJobCheckInterval, "JobWorkerOptions.UnhandledJobCheckInterval", nameof(UnhandledJobCheckInterval));
        if (WorkerId is not null)
        {
            // A worker whose id no store can hold would never claim (PostgreSQL refuses a NUL in every claim) or report.
            JobTextLimits.CheckStorable(WorkerId, "JobWorkerOptions.WorkerId", nameof(WorkerId));
            JobTextLimits.CheckLength(WorkerId, "JobWorkerOptions.WorkerId", nameof(WorkerId));
        }
    }
}
