using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// The runtime's tracing and metrics: one <see cref="ActivitySource"/> named <see cref="JobsDiagnostics.ActivitySourceName"/>,
/// and the <see cref="Meter"/> named <see cref="JobsDiagnostics.MeterName"/> of each runtime's host (<see cref="JobsMetrics"/>).
/// Every entry point checks for listeners first, so nothing is allocated or measured when nobody listens. The queue and the
/// worker call these helpers at a few fixed points.
/// </summary>
internal static class JobsInstrumentation
{
    /// <summary>AppContext switch that turns all instrumentation off (read once, at first use).</summary>
    internal const string DisableSwitch = "Jobs.Sdk.Instrumentation.Disabled";

    internal const string MessagingSystemTag = "messaging.system";
    internal const string MessagingSystem = "jobs.sdk";
    internal const string OperationTypeTag = "messaging.operation.type";
    internal const string OperationNameTag = "messaging.operation.name";
    internal const string DestinationTag = "messaging.destination.name";
    internal const string MessageIdTag = "messaging.message.id";
    internal const string BatchCountTag = "messaging.batch.message_count";
    internal const string JobNameTag = "jobs.job.name";
    internal const string AttemptTag = "jobs.job.attempt";
    internal const string OutcomeTag = "jobs.job.outcome";
    internal const string StateTag = "jobs.job.state";
    internal const string DiscardReasonTag = "jobs.discard.reason";
    internal const string ErrorTypeTag = "error.type";

    /// <summary>
    /// On <c>jobs.pushed</c>: the push was made in the caller's <see cref="System.Data.Common.DbTransaction"/>, counted before
    /// the caller's commit (value <see cref="CallerTransaction"/>); absent on pushes known to be stored.
    /// </summary>
    internal const string PushTransactionTag = "jobs.push.transaction";

    internal const string CallerTransaction = "caller";

    /// <summary>False when the <see cref="DisableSwitch"/> AppContext switch is set: no span, no measurement.</summary>
    internal static readonly bool Enabled = !(AppContext.TryGetSwitch(DisableSwitch, out var disabled) && disabled);

    /// <summary>The assembly's version, the meter's and the activity source's.</summary>
    internal static readonly string? Version = typeof(JobsInstrumentation).Assembly.GetName().Version?.ToString(3);

    private static readonly ConditionalWeakTable<IJobDriver, JobStateCountSampler> Samplers = new();

    /// <summary>The metrics of the runtime that tracks each driver (its host's meter), for what the driver counts itself.</summary>
    private static readonly ConditionalWeakTable<IJobDriver, JobsMetrics> Owners = new();

    private static readonly string[] StateNames = ["pending", "processing", "retrying", "completed", "failed", "cancelled", "paused"];

    internal static readonly ActivitySource Source = new(JobsDiagnostics.ActivitySourceName, Version);

    /// <summary>
    /// Makes the queue's driver report <see cref="JobsDiagnostics.StateCountInstrument"/> (weakly held) on
    /// <paramref name="metrics"/>' meter, its samples' age measured on <paramref name="time"/>, its failed reads logged to
    /// <paramref name="logger"/>; what the driver counts itself (its lease rescue) goes to <paramref name="metrics"/> too.
    /// </summary>
    internal static void TrackQueue(IJobDriver driver, TimeProvider time, ILogger logger, JobsMetrics metrics)
    {
        if (Enabled)
        {
            Owners.TryAdd(driver, metrics);
            Samplers.GetValue(driver, d => new JobStateCountSampler(d, time, logger));
        }
    }

    /// <summary>Stops reporting <paramref name="driver"/> (it was disposed).</summary>
    internal static void ForgetQueue(IJobDriver driver)
    {
        Samplers.Remove(driver);
        Owners.Remove(driver);
    }

    /// <summary>The metrics <paramref name="driver"/> counts into: its runtime's (<see cref="TrackQueue"/>), else the shared ones.</summary>
    internal static JobsMetrics MetricsOf(IJobDriver driver) => Owners.TryGetValue(driver, out var metrics) ? metrics : JobsMetrics.Shared;

    /// <summary>The state-count sampler of <paramref name="driver"/>, when tracked.</summary>
    internal static JobStateCountSampler? GetSampler(IJobDriver driver)
        => Samplers.TryGetValue(driver, out var sampler) ? sampler : null;

    /// <summary>
    /// Starts the producer span of a push (when a listener wants one) and returns the records to store: with the span's W3C
    /// trace context in their headers when the span is sampled (<see cref="Activity.Recorded"/>), else the same records.
    /// </summary>
    internal static PushTelemetry StartPush(string queueName, IReadOnlyList<JobPushRecord> records,
        IReadOnlyList<KeyValuePair<string, object?>>? storeTags = null, JobsMetrics? metrics = null)
    {
        metrics ??= JobsMetrics.Shared;
        if (!Enabled || records.Count == 0 || !Source.HasListeners())
        {
            return new PushTelemetry(null, records, queueName, storeTags, metrics);
        }

        try
        {
            return StartPushSpan(queueName, records, storeTags, metrics);
        }
        catch (Exception ex) when (IsListenerFault(ex))
        {
            // A throwing listener must not stop the push.
            return new PushTelemetry(null, records, queueName, storeTags, metrics);
        }
    }

    private static PushTelemetry StartPushSpan(string queueName, IReadOnlyList<JobPushRecord> records,
        IReadOnlyList<KeyValuePair<string, object?>>? storeTags, JobsMetrics metrics)
    {
        var first = records[0];
        var activity = Source.StartActivity(string.Concat("send ", first.Name), ActivityKind.Producer);
        if (activity is null)
        {
            return new PushTelemetry(null, records, queueName, storeTags, metrics);
        }

        if (activity.IsAllDataRequested)
        {
            activity.SetTag(MessagingSystemTag, MessagingSystem);
            activity.SetTag(OperationTypeTag, "send");
            activity.SetTag(OperationNameTag, "send");
            activity.SetTag(DestinationTag, queueName);
            activity.SetTag(JobNameTag, first.Name);
            if (records.Count == 1)
            {
                activity.SetTag(MessageIdTag, first.Id.ToString());
            }
            else
            {
                activity.SetTag(BatchCountTag, records.Count);
            }
        }

        // Only a sampled span's context is stored. An unsampled one (OpenTelemetry's SDK makes one, unrecorded, to propagate
        // its sampler's "no") names a span no backend receives: the attempts would link to it and JobAdmin show its trace.
        return new PushTelemetry(activity, activity.Recorded ? WithTraceContext(records, activity) : records, queueName, storeTags, metrics);
    }

    /// <summary>
    /// Starts measuring one attempt: the consumer span (a root span linked to the push-time context) and the queue
    /// wait. Returns <see langword="null"/> when nobody listens. <paramref name="claimed"/>: when the claim returned (a
    /// <paramref name="time"/> timestamp, 0 when unknown), from which the wait since the store's <see cref="ClaimedJob.DueFor"/> is measured.
    /// <paramref name="storeTags"/>: the driver's <see cref="IJobDriver.MetricTags"/>, added to every measurement.
    /// <paramref name="metrics"/>: the runtime's instruments (its host's meter; the shared ones when null).
    /// </summary>
    internal static JobProcessTelemetry? StartProcess(string queueName, ClaimedJob job, TimeProvider time, long claimed = 0,
        IReadOnlyList<KeyValuePair<string, object?>>? storeTags = null, JobsMetrics? metrics = null)
    {
        if (!Enabled)
        {
            return null;
        }

        try
        {
            return StartProcessCore(queueName, job, time, claimed, storeTags, metrics ?? JobsMetrics.Shared);
        }
        catch (Exception ex) when (IsListenerFault(ex))
        {
            // A throwing listener must not stop the job from running.
            return null;
        }
    }

    private static JobProcessTelemetry? StartProcessCore(string queueName, ClaimedJob job, TimeProvider time, long claimed,
        IReadOnlyList<KeyValuePair<string, object?>>? storeTags, JobsMetrics metrics)
    {
        var tracing = Source.HasListeners();
        if (!tracing && !metrics.ProcessMetricsEnabled)
        {
            return null;
        }

        Activity? activity = null;
        if (tracing)
        {
            // The consumer span is a new trace linked to the push, never a child of whatever is current on this thread.
            Activity.Current = null;
            ActivityLink[]? links = null;
            if (job.Headers is { } headers && headers.TryGetValue(JobHeaders.TraceParent, out var traceParent)
                && ActivityContext.TryParse(traceParent, headers.GetValueOrDefault(JobHeaders.TraceState), isRemote: true, out var pushContext))
            {
                links = [new ActivityLink(pushContext)];
            }

            activity = Source.StartActivity(string.Concat("process ", job.Name), ActivityKind.Consumer, parentContext: default, tags: null, links: links);
            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag(MessagingSystemTag, MessagingSystem);
                activity.SetTag(OperationTypeTag, "process");
                activity.SetTag(OperationNameTag, "process");
                activity.SetTag(DestinationTag, queueName);
                activity.SetTag(MessageIdTag, job.Id.ToString());
                activity.SetTag(JobNameTag, job.Name);
                activity.SetTag(AttemptTag, job.Attempt);
            }
        }

        if (metrics.QueueWait.Enabled)
        {
            // On the store's clock when it says (a worker whose clock is off would add or hide its skew), plus the time the
            // job then spent in this worker's buffer (a duration on this machine); else this machine's clock.
            var due = job.RunAt > job.QueuedAt ? job.RunAt : job.QueuedAt;
            var wait = job.DueFor is { } dueFor && claimed != 0 ? dueFor + time.GetElapsedTime(claimed) : time.GetUtcNow() - due;
            var tags = new TagList
            {
                { JobNameTag, job.Name },
                { DestinationTag, queueName },
            };
            AddStoreTags(ref tags, storeTags);
            metrics.QueueWait.Record(wait > TimeSpan.Zero ? wait.TotalSeconds : 0, tags);
        }

        return new JobProcessTelemetry(activity, job, queueName, time, storeTags, metrics);
    }

    private static IReadOnlyList<JobPushRecord> WithTraceContext(IReadOnlyList<JobPushRecord> records, Activity activity)
    {
        if (activity.IdFormat != ActivityIdFormat.W3C || activity.Id is not { } traceParent)
        {
            return records;
        }

        var traceState = ValidTraceState(activity.TraceStateString);
        Dictionary<string, string>? shared = null;
        var result = new JobPushRecord[records.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var record = records[i];
            Dictionary<string, string> headers;
            if (record.Headers is null || record.Headers.Count == 0)
            {
                // Drivers only read headers: records without headers of their own share one dictionary.
                headers = shared ??= TraceHeaders(null, traceParent, traceState);
            }
            else
            {
                headers = TraceHeaders(record.Headers, traceParent, traceState);
            }

            result[i] = record with { Headers = headers };
        }

        return result;
    }

    /// <summary>
    /// <paramref name="traceState"/> when it is W3C Trace Context text (printable ASCII, spaces and tabs), else <see langword="null"/>:
    /// the caller's context may carry anything a header it received held, and one no store can hold (a NUL) must not fail the
    /// push. The specification asks to drop an invalid trace state; the trace parent, made by .NET, is kept.
    /// </summary>
    private static string? ValidTraceState(string? traceState)
    {
        foreach (var c in traceState ?? "")
        {
            if (c is not ('\t' or (>= ' ' and <= '~')))
            {
                return null;
            }
        }

        return traceState;
    }

    private static Dictionary<string, string> TraceHeaders(IReadOnlyDictionary<string, string>? existing, string traceParent, string? traceState)
    {
        var headers = existing is null ? new Dictionary<string, string>(2, StringComparer.Ordinal) : new Dictionary<string, string>(existing, StringComparer.Ordinal);
        headers[JobHeaders.TraceParent] = traceParent;
        if (traceState is null)
        {
            headers.Remove(JobHeaders.TraceState);
        }
        else
        {
            headers[JobHeaders.TraceState] = traceState;
        }

        return headers;
    }

    /// <summary>The <see cref="JobsDiagnostics.StateCountInstrument"/> of the queues whose runtime counts into <paramref name="owner"/>.</summary>
    internal static IEnumerable<Measurement<long>> ObserveStateCounts(JobsMetrics owner)
    {
        if (!Enabled)
        {
            return [];
        }

        List<Measurement<long>>? measurements = null;
        foreach (var (driver, sampler) in Samplers)
        {
            if (MetricsOf(driver) != owner || sampler.GetCounts() is not { } counts)
            {
                continue;
            }

            measurements ??= [];
            for (var state = JobState.Pending; state <= JobState.Paused; state++)
            {
                var tags = new TagList
                {
                    { DestinationTag, driver.QueueName },
                    { StateTag, StateNames[(int)state] },
                };
                AddStoreTags(ref tags, driver.MetricTags);
                measurements.Add(new Measurement<long>(counts[state], tags));
            }
        }

        return measurements ?? [];
    }

    /// <summary>
    /// Adds a driver's <see cref="IJobDriver.MetricTags"/> (which tell apart stores serving queues of one name) to
    /// <paramref name="tags"/>.
    /// </summary>
    internal static void AddStoreTags(ref TagList tags, IReadOnlyList<KeyValuePair<string, object?>>? storeTags)
    {
        if (storeTags is null)
        {
            return;
        }

        for (var i = 0; i < storeTags.Count; i++)
        {
            tags.Add(storeTags[i]);
        }
    }

    /// <summary>
    /// Exceptions thrown by a user's listener (an <see cref="ActivityListener"/> or <see cref="MeterListener"/>
    /// callback) are swallowed: instrumentation never changes what a push or a job does.
    /// </summary>
    internal static bool IsListenerFault(Exception exception) => exception is not OutOfMemoryException;

    internal static void RecordException(Activity activity, Exception exception)
    {
        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        if (activity.IsAllDataRequested)
        {
            activity.SetTag(ErrorTypeTag, exception.GetType().FullName);
            activity.AddException(exception);
        }
    }
}
