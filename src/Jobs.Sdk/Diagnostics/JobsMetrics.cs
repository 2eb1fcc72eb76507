using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Jobs.Sdk;

/// <summary>
/// The <see cref="Meter"/> named <see cref="JobsDiagnostics.MeterName"/> of one host and its instruments. A host's
/// <see cref="IMeterFactory"/> (registered by the .NET Generic Host) makes its own meter, scoped to that factory, so a
/// listener of one host's meters sees only its jobs and the meter ends with the host; without one (a bare service
/// collection) every such runtime of the process shares <see cref="Shared"/>, as before.
/// </summary>
internal sealed class JobsMetrics
{
    private static readonly double[] SecondsBuckets =
        [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    /// <summary>One set per meter: an <see cref="IMeterFactory"/> hands out the same meter for the same options.</summary>
    private static readonly ConditionalWeakTable<Meter, JobsMetrics> ByMeter = new();

    private JobsMetrics(Meter meter)
    {
        Meter = meter;
        Pushed = meter.CreateCounter<long>(JobsDiagnostics.PushedInstrument, "{job}",
            "Jobs stored by a push. A push in the caller's ambient transaction (TransactionScope) counts at its commit, never after a "
            + "rollback; one in the caller's DbTransaction counts when the push returns, tagged jobs.push.transaction=caller: its "
            + "commit is the caller's, and a rollback does not take the count back.");
        Completed = meter.CreateCounter<long>(JobsDiagnostics.CompletedInstrument, "{job}", "Jobs whose attempt completed them.");
        Failed = meter.CreateCounter<long>(JobsDiagnostics.FailedInstrument, "{job}",
            "Jobs failed for good (attempts used up or error not retryable).");
        Retried = meter.CreateCounter<long>(JobsDiagnostics.RetriedInstrument, "{attempt}", "Failed attempts queued again for a later attempt.");
        Cancelled = meter.CreateCounter<long>(JobsDiagnostics.CancelledInstrument, "{job}", "Running jobs cancelled by a user.");
        Discarded = meter.CreateCounter<long>(JobsDiagnostics.DiscardedInstrument, "{job}",
            "Jobs failed without running: no handler registered, or payload not decodable.");
        ExecutionDuration = meter.CreateHistogram(JobsDiagnostics.ExecutionDurationInstrument, "s",
            "Duration of one attempt, from when a runner takes the job (its handler pipeline starts) to its outcome; "
            + "time in a worker's prefetch buffer is in jobs.queue.wait.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        QueueWait = meter.CreateHistogram(JobsDiagnostics.QueueWaitInstrument, "s",
            "Time a due job waited for a worker, from the later of push and due time to start.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        StateCount = meter.CreateObservableGauge(JobsDiagnostics.StateCountInstrument, () => JobsInstrumentation.ObserveStateCounts(this),
            "{job}", "Stored jobs per state and queue (sampled every few seconds).");
    }

    /// <summary>The process-wide meter of runtimes built without an <see cref="IMeterFactory"/>.</summary>
    internal static JobsMetrics Shared { get; } = new(new Meter(JobsDiagnostics.MeterName, JobsInstrumentation.Version));

    /// <summary>The instruments of <paramref name="factory"/>'s meter (its host's); <see cref="Shared"/> without one.</summary>
    internal static JobsMetrics For(IMeterFactory? factory)
    {
        if (factory is null)
        {
            return Shared;
        }

        var meter = factory.Create(new MeterOptions(JobsDiagnostics.MeterName) { Version = JobsInstrumentation.Version });
        return ByMeter.GetValue(meter, static m => new JobsMetrics(m));
    }

    public Meter Meter { get; }

    public Counter<long> Pushed { get; }

    public Counter<long> Completed { get; }

    public Counter<long> Failed { get; }

    public Counter<long> Retried { get; }

    public Counter<long> Cancelled { get; }

    public Counter<long> Discarded { get; }

    public Histogram<double> ExecutionDuration { get; }

    public Histogram<double> QueueWait { get; }

    public ObservableGauge<long> StateCount { get; }

    /// <summary>Whether any outcome instrument of an attempt is listened to.</summary>
    public bool ProcessMetricsEnabled
        => Completed.Enabled || Failed.Enabled || Retried.Enabled || Cancelled.Enabled || Discarded.Enabled
            || ExecutionDuration.Enabled || QueueWait.Enabled;
}
