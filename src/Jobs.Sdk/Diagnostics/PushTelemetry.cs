using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <summary>The producer side of one push: the span (if sampled) and the records to store.</summary>
internal readonly struct PushTelemetry : IDisposable
{
    private readonly Activity? _activity;
    private readonly string _queueName;
    private readonly IReadOnlyList<KeyValuePair<string, object?>>? _storeTags;

    internal PushTelemetry(Activity? activity, IReadOnlyList<JobPushRecord> records, string queueName,
        IReadOnlyList<KeyValuePair<string, object?>>? storeTags = null)
    {
        _activity = activity;
        Records = records;
        _queueName = queueName;
        _storeTags = storeTags;
    }

    /// <summary>The records to hand to the driver (carrying the trace context when a sampled span was started).</summary>
    public IReadOnlyList<JobPushRecord> Records { get; }

    /// <summary>
    /// The records are stored: counts those <paramref name="results"/> says were inserted (all when null; a unique push whose
    /// key a job holds stores nothing).
    /// </summary>
    public void Stored(Func<int, JobPushResult>? results = null)
    {
        if (!JobsInstrumentation.Enabled || !JobsInstrumentation.Pushed.Enabled)
        {
            return;
        }

        try
        {
            CountStored(results);
        }
        catch (Exception ex) when (JobsInstrumentation.IsListenerFault(ex))
        {
        }
    }

    private void CountStored(Func<int, JobPushResult>? results)
    {
        // Batches hold one job type; count runs of equal names so mixed batches stay exact.
        var records = Records;
        var start = 0;
        var count = 0;
        for (var i = 0; i <= records.Count; i++)
        {
            if (i == records.Count || !string.Equals(records[i].Name, records[start].Name, StringComparison.Ordinal))
            {
                Count(records[start].Name, count);
                start = i;
                count = 0;
            }

            if (i < records.Count && (results is null || results(i).Inserted))
            {
                count++;
            }
        }
    }

    private void Count(string name, int count)
    {
        if (count == 0)
        {
            return;
        }

        var tags = new TagList
        {
            { JobsInstrumentation.JobNameTag, name },
            { JobsInstrumentation.DestinationTag, _queueName },
        };
        JobsInstrumentation.AddStoreTags(ref tags, _storeTags);
        JobsInstrumentation.Pushed.Add(count, tags);
    }

    /// <summary>
    /// A single unique push stored nothing: job <paramref name="holder"/> holds its key, and its id is what the caller got.
    /// The span's <c>messaging.message.id</c> names that job instead of the record that was never stored.
    /// </summary>
    public void HeldBy(JobId holder)
    {
        if (_activity is not { IsAllDataRequested: true })
        {
            return;
        }

        try
        {
            _activity.SetTag(JobsInstrumentation.MessageIdTag, holder.ToString());
        }
        catch (Exception ex) when (JobsInstrumentation.IsListenerFault(ex))
        {
        }
    }

    /// <summary>The push threw: marks the span as failed.</summary>
    public void Failed(Exception exception)
    {
        if (_activity is null)
        {
            return;
        }

        try
        {
            JobsInstrumentation.RecordException(_activity, exception);
        }
        catch (Exception ex) when (JobsInstrumentation.IsListenerFault(ex))
        {
        }
    }

    /// <summary>Ends the span.</summary>
    public void Dispose()
    {
        try
        {
            _activity?.Dispose();
        }
        catch (Exception ex) when (JobsInstrumentation.IsListenerFault(ex))
        {
        }
    }
}
