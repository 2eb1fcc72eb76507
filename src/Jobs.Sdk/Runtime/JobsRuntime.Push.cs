using System.Data.Common;
using System.Transactions;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <content>
/// The one push path, used by <see cref="JobQueue.PushAsync{TJob}(TJob, JobOptions?, CancellationToken)"/>,
/// <see cref="JobQueue.PushManyAsync{TJob}(IEnumerable{TJob}, JobOptions?, CancellationToken)"/> and the scheduler:
/// build the records (attempt limit from <see cref="JobRetryPolicy"/>), trace, write, then run the push observers.
/// </content>
internal sealed partial class JobsRuntime
{
    /// <summary>Pushes <paramref name="jobs"/> through the driver; returns their ids in input order.</summary>
    public async Task<JobId[]> PushAsync<TJob>(IReadOnlyList<TJob> jobs, JobOptions options, DbTransaction? transaction, CancellationToken cancellationToken)
        where TJob : IJob<TJob>
    {
        var results = await PushWithResultsAsync(jobs, options, transaction, cancellationToken).ConfigureAwait(false);
        var ids = new JobId[results.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = results[i].Id;
        }

        return ids;
    }

    /// <summary>
    /// Pushes <paramref name="jobs"/> to their queue (<see cref="JobOptions.Queue"/>, else the type's, else this one);
    /// unique jobs through <see cref="IJobDriver.PushUniqueAsync"/> (a batch: <see cref="IJobDriver.PushUniqueManyAsync"/>). Returns what
    /// happened, in input order.
    /// </summary>
    public async Task<JobPushResult[]> PushWithResultsAsync<TJob>(IReadOnlyList<TJob> jobs, JobOptions options, DbTransaction? transaction,
        CancellationToken cancellationToken)
        where TJob : IJob<TJob>
    {
        var target = ForQueue(options.Queue ?? TJob.Queue, options.Queue is null ? "queue" : "options.Queue");
        var maxAttempts = RetryPolicy.MaxAttemptsFor(TJob.JobName, TJob.MaxAttempts, options);
        if (jobs.Count == 0)
        {
            return [];
        }

        var unique = options.UniqueKey is not null || TJob.Unique;
        var records = new JobPushRecord[jobs.Count];
        for (var i = 0; i < records.Length; i++)
        {
            records[i] = target.CreateRecord(jobs[i], options, TJob.JobName, maxAttempts, headers: null);
            if (unique)
            {
                records[i] = WithUniqueKey(records[i], jobs[i], options);
            }
        }

        JobPushResult[]? results = null;
        var stored = await target.StoreAsync(records, jobs, options, async (r, ct) =>
        {
            results = new JobPushResult[r.Count];
            if (!unique)
            {
                await target.Driver.PushAsync(r, transaction, ct).ConfigureAwait(false);
                for (var i = 0; i < results.Length; i++)
                {
                    results[i] = new JobPushResult(r[i].Id, true);
                }

                return true;
            }

            if (r.Count == 1)
            {
                results[0] = await target.Driver.PushUniqueAsync(r[0], transaction, ct).ConfigureAwait(false);
                return true;
            }

            // A batch is all or nothing, unique jobs included: the driver stores them in one transaction.
            var pushed = await target.Driver.PushUniqueManyAsync(r, transaction, ct).ConfigureAwait(false);
            for (var i = 0; i < results.Length; i++)
            {
                results[i] = pushed[i];
            }

            return true;
        }, cancellationToken, i => results![i], transaction).ConfigureAwait(false);
        return results ?? [];
    }

    /// <summary>
    /// Pushes one scheduled job through <paramref name="tryWrite"/> (the schedule store's exactly-once write); returns what
    /// the fire did. Push observers run only when a job was stored.
    /// </summary>
    public async Task<ScheduledFireResult> PushScheduledAsync<TJob>(JobPushRecord record, TJob job, JobOptions options,
        Func<JobPushRecord, CancellationToken, Task<ScheduledFireResult>> tryWrite, CancellationToken cancellationToken)
        where TJob : IJob<TJob>
    {
        var result = new ScheduledFireResult(ScheduledFireOutcome.AlreadyRecorded, null);
        await StoreAsync([record], [job], options, async (r, ct) =>
        {
            result = await tryWrite(r[0], ct).ConfigureAwait(false);
            return result.Outcome == ScheduledFireOutcome.Pushed;
        }, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// <paramref name="record"/> with the unique key of <paramref name="job"/> (<see cref="JobOptions.UniqueKey"/>, else its
    /// <c>[UniqueKey]</c> members, else its payload), scoped to its job type, and the type's UniqueFor.
    /// </summary>
    public static JobPushRecord WithUniqueKey<TJob>(JobPushRecord record, TJob job, JobOptions options)
        where TJob : IJob<TJob>
    {
        var key = options.UniqueKey ?? TJob.GetUniqueKey(job);
        if (key is not null)
        {
            JobTextLimits.CheckUniqueKey(key,
                options.UniqueKey is null ? $"The unique key of job '{TJob.JobName}' (its GetUniqueKey)" : "JobOptions.UniqueKey",
                options.UniqueKey is null ? nameof(job) : "options.UniqueKey");
        }

        return record with
        {
            UniqueKey = JobUniqueKeys.Scoped(TJob.JobName, key, record.Payload),
            UniqueFor = TimeSpan.FromSeconds(Math.Max(TJob.UniqueForSeconds, 0)),
        };
    }

    /// <summary>A new job's stored form.</summary>
    public JobPushRecord CreateRecord<TJob>(TJob job, JobOptions options, string name, int maxAttempts, IReadOnlyDictionary<string, string>? headers)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(job);
        var concurrencyKey = options.ConcurrencyKey ?? (TJob.ConcurrencyLimit is not null ? TJob.GetConcurrencyKey(job) : null);
        if (concurrencyKey is not null)
        {
            // JobOptions.ConcurrencyKey is used exactly as given; the [ConcurrencyKey] members' text is escaped (no NUL) but may be long.
            JobTextLimits.CheckConcurrencyKey(concurrencyKey,
                options.ConcurrencyKey is null ? $"The concurrency key of job '{name}' (its [ConcurrencyKey] members)" : "JobOptions.ConcurrencyKey",
                options.ConcurrencyKey is null ? nameof(job) : "options.ConcurrencyKey");
        }

        return new JobPushRecord
        {
            ConcurrencyKey = concurrencyKey,
            ConcurrencyLimit = concurrencyKey is null ? null : Math.Max(TJob.ConcurrencyLimit ?? 1, 1),
            Id = JobId.New(),
            Name = name,
            Payload = JobSerializer.Serialize(job),
            Priority = options.Priority,
            RunAt = options.DelayUntil,
            MaxAttempts = maxAttempts,
            Headers = headers,
        };
    }

    private async Task<IReadOnlyList<JobPushRecord>> StoreAsync<TJob>(IReadOnlyList<JobPushRecord> records, IReadOnlyList<TJob> jobs, JobOptions options,
        Func<IReadOnlyList<JobPushRecord>, CancellationToken, Task<bool>> write, CancellationToken cancellationToken,
        Func<int, JobPushResult>? results = null, DbTransaction? transaction = null)
        where TJob : IJob<TJob>
    {
        using var telemetry = JobsInstrumentation.StartPush(QueueName, records, Driver.MetricTags, Metrics);
        records = telemetry.Records;
        // Read before the write, as the driver reads it: the ambient transaction the push joins, whose commit stores it.
        var ambient = transaction is null && Driver is IAmbientTransactionPushes { JoinsAmbientTransaction: true } ? Transaction.Current : null;
        bool stored;
        try
        {
            stored = await write(records, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            telemetry.Failed(ex);
            throw;
        }

        if (!stored)
        {
            return [];
        }

        telemetry.Stored(results, callerTransaction: transaction is not null, ambient);
        if (records.Count == 1 && results?.Invoke(0) is { Inserted: false } held)
        {
            // The caller got the job that holds the key: the span names it, not the record that was never stored.
            telemetry.HeldBy(held.Id);
        }

        if (!Pipeline.IsEmpty)
        {
            for (var i = 0; i < records.Count; i++)
            {
                if (results is not null && !results(i).Inserted)
                {
                    continue;
                }

                await Pipeline.OnPushedAsync(new JobPushContext(records[i].Id, records[i].Name, QueueName, 1, jobs[i], options), cancellationToken)
                    .ConfigureAwait(false);
            }
        }

        return records;
    }
}
