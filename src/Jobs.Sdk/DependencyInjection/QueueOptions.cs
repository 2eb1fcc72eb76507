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

    internal void Validate()
    {
        if (Concurrency is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Concurrency), Concurrency,
                $"The concurrency of queue '{Name}' must be at least 1 (or unset for the worker's default).");
        }
    }
}
