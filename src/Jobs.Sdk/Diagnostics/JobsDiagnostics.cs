namespace Jobs.Sdk;

/// <summary>
/// Names of the tracing source, meter and instruments Jobs.Sdk publishes through <c>System.Diagnostics</c>. OpenTelemetry
/// picks them up with no adapter: <c>tracing.AddSource(JobsDiagnostics.ActivitySourceName)</c> and
/// <c>metrics.AddMeter(JobsDiagnostics.MeterName)</c>.
/// </summary>
public static class JobsDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> name: <c>Jobs.Sdk</c>.</summary>
    public const string ActivitySourceName = "Jobs.Sdk";

    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> name: <c>Jobs.Sdk</c>.</summary>
    public const string MeterName = "Jobs.Sdk";

    /// <summary>Counter: jobs stored by a push (tags: job name, queue).</summary>
    public const string PushedInstrument = "jobs.pushed";

    /// <summary>Counter: attempts that completed the job (tags: job name, queue).</summary>
    public const string CompletedInstrument = "jobs.completed";

    /// <summary>Counter: attempts that failed the job for good (tags: job name, queue, error type).</summary>
    public const string FailedInstrument = "jobs.failed";

    /// <summary>Counter: failed attempts that were queued again (every retry counts; tags: job name, queue, error type).</summary>
    public const string RetriedInstrument = "jobs.retried";

    /// <summary>Counter: running jobs cancelled by a user (tags: job name, queue).</summary>
    public const string CancelledInstrument = "jobs.cancelled";

    /// <summary>Counter: jobs failed without running because no handler is registered or the payload cannot be decoded (tags: job name, queue, reason).</summary>
    public const string DiscardedInstrument = "jobs.discarded";

    /// <summary>
    /// Histogram (seconds): how long an attempt ran, from when a runner takes the job (its handler pipeline starts) to its
    /// outcome; time the job spent in a worker's prefetch buffer is in <see cref="QueueWaitInstrument"/> (tags: job name, queue, outcome).
    /// </summary>
    public const string ExecutionDurationInstrument = "jobs.execution.duration";

    /// <summary>Histogram (seconds): how long a due job waited, from the later of push and due time to the start of the attempt (tags: job name, queue).</summary>
    public const string QueueWaitInstrument = "jobs.queue.wait";

    /// <summary>Observable gauge: stored jobs per state (tags: queue, state), sampled at most every few seconds.</summary>
    public const string StateCountInstrument = "jobs.state.count";
}
