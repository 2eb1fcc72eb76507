using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <summary>One attempt being measured (created only when someone listens).</summary>
internal sealed class JobProcessTelemetry
{
    private readonly Activity? _activity;
    private readonly ClaimedJob _job;
    private readonly string _queueName;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<KeyValuePair<string, object?>>? _storeTags;
    private readonly JobsMetrics _metrics;
    private readonly long _started;
    private Exception? _error;
    private string? _discardReason;

    internal JobProcessTelemetry(Activity? activity, ClaimedJob job, string queueName, TimeProvider time,
        IReadOnlyList<KeyValuePair<string, object?>>? storeTags = null, JobsMetrics? metrics = null)
    {
        _activity = activity;
        _job = job;
        _queueName = queueName;
        _time = time;
        _storeTags = storeTags;
        _metrics = metrics ?? JobsMetrics.Shared;
        _started = time.GetTimestamp();
    }

    /// <summary>The consumer span, when sampled.</summary>
    internal Activity? Activity => _activity;

    /// <summary>The attempt failed with <paramref name="error"/> (the outcome tells whether it is retried).</summary>
    public void SetError(Exception error) => _error = error;

    /// <summary>The job cannot run here: no handler, or an undecodable payload (discarded if the attempt fails it for good).</summary>
    public void SetDiscarded(Exception error)
    {
        _error = error;
        _discardReason = error is JobDecodeException ? "decode_error" : "unknown_job";
    }

    /// <summary>Records the attempt's outcome (<see langword="null"/>: the worker lost the job's lease) and ends the span.</summary>
    public void Stop(JobOutcome? outcome)
    {
        try
        {
            StopCore(outcome);
        }
        catch (Exception ex) when (JobsInstrumentation.IsListenerFault(ex))
        {
            // A throwing listener must not lose the outcome: the worker records it right after this call.
        }
    }

    private void StopCore(JobOutcome? outcome)
    {
        var kind = outcome?.Kind;
        var outcomeName = kind switch
        {
            // A job that cannot run is discarded when it fails for good. Interrupted before that (its pop observers ran into
            // the worker's stop, a user's cancel, a lost lease), it ends as any attempt does: given back uncounted, for a
            // worker that can run it; cancelled; or the lease's.
            JobOutcomeKind.Failed when _discardReason is not null => "discarded",
            JobOutcomeKind.Completed => "completed",
            JobOutcomeKind.Failed => "failed",
            JobOutcomeKind.Retry => "retried",
            JobOutcomeKind.Reschedule => "rescheduled",
            JobOutcomeKind.Release => "released",
            JobOutcomeKind.Cancelled => "cancelled",
            _ => "lease_lost",
        };

        var tags = new TagList
        {
            { JobsInstrumentation.JobNameTag, _job.Name },
            { JobsInstrumentation.DestinationTag, _queueName },
        };
        JobsInstrumentation.AddStoreTags(ref tags, _storeTags);
        switch (outcomeName)
        {
            case "completed":
                _metrics.Completed.Add(1, tags);
                break;
            case "failed":
                _metrics.Failed.Add(1, WithError(tags));
                break;
            case "retried":
                _metrics.Retried.Add(1, WithError(tags));
                break;
            case "cancelled":
                _metrics.Cancelled.Add(1, tags);
                break;
            case "discarded":
                var discardTags = tags;
                discardTags.Add(JobsInstrumentation.DiscardReasonTag, _discardReason);
                _metrics.Discarded.Add(1, discardTags);
                break;
        }

        if (_metrics.ExecutionDuration.Enabled)
        {
            var durationTags = tags;
            durationTags.Add(JobsInstrumentation.OutcomeTag, outcomeName);
            _metrics.ExecutionDuration.Record(_time.GetElapsedTime(_started).TotalSeconds, durationTags);
        }

        if (_activity is null)
        {
            return;
        }

        if (_activity.IsAllDataRequested)
        {
            _activity.SetTag(JobsInstrumentation.OutcomeTag, outcomeName);
        }

        switch (outcomeName)
        {
            case "failed" or "retried" or "discarded" when _error is not null:
                JobsInstrumentation.RecordException(_activity, _error);
                break;
            case "failed" or "retried" or "discarded":
                _activity.SetStatus(ActivityStatusCode.Error);
                break;
            case "lease_lost":
                _activity.SetStatus(ActivityStatusCode.Error, "The worker lost the job's lease; another worker may run it.");
                break;
        }

        _activity.Dispose();
    }

    private TagList WithError(TagList tags)
    {
        if (_error is not null)
        {
            tags.Add(JobsInstrumentation.ErrorTypeTag, _error.GetType().FullName);
        }

        return tags;
    }
}
