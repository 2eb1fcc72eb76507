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

    /// <summary>The records to hand to the driver (carrying the trace context when a span was started).</summary>
    public IReadOnlyList<JobPushRecord> Records { get; }

    /// <summary>The records are stored: counts them.</summary>
    public void Stored()
    {
        if (!JobsInstrumentation.Enabled || !JobsInstrumentation.Pushed.Enabled)
        {
            return;
        }

        try
        {
            CountStored();
        }
        catch (Exception ex) when (JobsInstrumentation.IsListenerFault(ex))
        {
        }
    }

    private void CountStored()
    {
        // Batches hold one job type; count runs of equal names so mixed batches stay exact.
        var records = Records;
        var start = 0;
        for (var i = 1; i <= records.Count; i++)
        {
            if (i == records.Count || !string.Equals(records[i].Name, records[start].Name, StringComparison.Ordinal))
            {
                var tags = new TagList
                {
                    { JobsInstrumentation.JobNameTag, records[start].Name },
                    { JobsInstrumentation.DestinationTag, _queueName },
                };
                JobsInstrumentation.AddStoreTags(ref tags, _storeTags);
                JobsInstrumentation.Pushed.Add(i - start, tags);
                start = i;
            }
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
