using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Transactions;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <summary>The producer side of one push: the span (if sampled) and the records to store.</summary>
internal readonly struct PushTelemetry : IDisposable
{
    private readonly Activity? _activity;
    private readonly string _queueName;
    private readonly IReadOnlyList<KeyValuePair<string, object?>>? _storeTags;
    private readonly JobsMetrics _metrics;

    internal PushTelemetry(Activity? activity, IReadOnlyList<JobPushRecord> records, string queueName,
        IReadOnlyList<KeyValuePair<string, object?>>? storeTags, JobsMetrics metrics)
    {
        _activity = activity;
        Records = records;
        _queueName = queueName;
        _storeTags = storeTags;
        _metrics = metrics;
    }

    /// <summary>The records to hand to the driver (carrying the trace context when a sampled span was started).</summary>
    public IReadOnlyList<JobPushRecord> Records { get; }

    /// <summary>
    /// The records are stored: counts those <paramref name="results"/> says were inserted (all when null; a unique push whose
    /// key a job holds stores nothing). In the caller's <see cref="System.Data.Common.DbTransaction"/>
    /// (<paramref name="callerTransaction"/>) they are counted now, tagged <see cref="JobsInstrumentation.PushTransactionTag"/>:
    /// nothing tells the SDK whether the caller commits. In the <paramref name="ambient"/> transaction the push joined, they
    /// are counted when it commits, and never when it rolls back.
    /// </summary>
    public void Stored(Func<int, JobPushResult>? results = null, bool callerTransaction = false, Transaction? ambient = null)
    {
        if (!JobsInstrumentation.Enabled || !_metrics.Pushed.Enabled)
        {
            return;
        }

        try
        {
            if (ambient is null)
            {
                CountStored(results, callerTransaction);
                return;
            }

            // The records and results are final: the push has returned.
            var self = this;
            ambient.TransactionCompleted += (_, e) => self.CountCommitted(e.Transaction, results);
        }
        catch (Exception ex) when (JobsInstrumentation.IsListenerFault(ex))
        {
        }
    }

    private void CountCommitted(Transaction? transaction, Func<int, JobPushResult>? results)
    {
        try
        {
            if (transaction?.TransactionInformation.Status == TransactionStatus.Committed)
            {
                CountStored(results, callerTransaction: false);
            }
        }
        catch (Exception ex) when (JobsInstrumentation.IsListenerFault(ex))
        {
            // Raised on the thread that ends the caller's transaction: a throwing listener must not reach it.
        }
    }

    private void CountStored(Func<int, JobPushResult>? results, bool callerTransaction)
    {
        // Batches hold one job type; count runs of equal names so mixed batches stay exact.
        var records = Records;
        var start = 0;
        var count = 0;
        for (var i = 0; i <= records.Count; i++)
        {
            if (i == records.Count || !string.Equals(records[i].Name, records[start].Name, StringComparison.Ordinal))
            {
                Count(records[start].Name, count, callerTransaction);
                start = i;
                count = 0;
            }

            if (i < records.Count && (results is null || results(i).Inserted))
            {
                count++;
            }
        }
    }

    private void Count(string name, int count, bool callerTransaction)
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
        if (callerTransaction)
        {
            tags.Add(JobsInstrumentation.PushTransactionTag, JobsInstrumentation.CallerTransaction);
        }

        _metrics.Pushed.Add(count, tags);
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
