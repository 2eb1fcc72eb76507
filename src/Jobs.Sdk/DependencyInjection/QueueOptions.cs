namespace Jobs.Sdk;

/// <summary>
/// How this process serves one queue (<c>jobs.AddQueue("emails", q => q.Concurrency = 8)</c>). Workers added by
/// <c>AddWorkers</c> run every declared queue side by side, each with its own slots, claims and wake-ups, over one
/// LISTEN connection.
/// </summary>
public sealed class QueueOptions
{
    internal QueueOptions(string name) => Name = name;

    /// <summary>The queue's name (a value stored with each job, never spliced into SQL).</summary>
    public string Name { get; }

    /// <summary>
    /// Jobs of this queue running at once in this process; <see langword="null"/> (the default) uses
    /// <see cref="JobWorkerOptions.Concurrency"/>.
    /// </summary>
    public int? Concurrency { get; set; }

    /// <summary>
    /// At most this many jobs of the queue run at once across every process and machine (each claim takes no more than
    /// what is left, counting jobs processing anywhere; a crashed worker's jobs count until their leases are rescued).
    /// <see langword="null"/> (the default): no cluster-wide limit, and claims cost nothing extra. Set the same value on
    /// every process serving the queue. Jobs claimed into a prefetch buffer count as running, so a limited queue takes no
    /// adaptive buffer (<see cref="JobWorkerOptions.AdaptivePrefetch"/>); keep <see cref="JobWorkerOptions.Prefetch"/> at 0.
    /// </summary>
    public int? GlobalConcurrency { get; set; }

    /// <summary>
    /// A cluster-wide cap on how fast the queue's jobs start (<c>RateLimit.PerSecond(100)</c>): a token bucket kept in the
    /// store, shared by every process and machine serving the queue. <see langword="null"/> (the default): no limit, and
    /// claims cost nothing extra. A rate-limited queue claims only jobs it starts at once (no prefetch buffer), so that
    /// the rate applies to job starts; when the bucket is empty its workers wait until enough tokens are due (computed
    /// from the rate, no polling). Set the same value on every process serving the queue.
    /// </summary>
    public RateLimit? RateLimit { get; set; }

    internal void Validate()
    {
        if (GlobalConcurrency is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(GlobalConcurrency), GlobalConcurrency,
                $"The global concurrency of queue '{Name}' must be at least 1 (or unset for no cluster-wide limit).");
        }

        if (Concurrency is < 1 or > JobWorkerOptions.MaxConcurrency)
        {
            throw new ArgumentOutOfRangeException(nameof(Concurrency), Concurrency,
                $"The concurrency of queue '{Name}' must be at least 1 and at most {JobWorkerOptions.MaxConcurrency} (or unset for the worker's default).");
        }
    }
}
