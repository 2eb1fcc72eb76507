using System.Data.Common;
using System.Transactions;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

// Many queues and unique jobs. A queue view (ForQueue) is a driver of its own jobs that shares the root's lock and queue
// pauses; unique keys are held per queue by the job that stored them, until it finished UniqueFor ago (or is deleted).
public sealed partial class InMemoryJobDriver
{
    private readonly Dictionary<string, InMemoryJobDriver> _views = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JobId> _uniqueHolders = new(StringComparer.Ordinal);
    private InMemoryJobDriver? _root;

    private InMemoryJobDriver(InMemoryJobDriver root, string queue)
    {
        _root = root;
        _options = new InMemoryJobDriverOptions { QueueName = queue, Retention = root._options.Retention, PollInterval = root._options.PollInterval };
        _time = root._time;
        _gate = root._gate;
        _pausedQueues = root._pausedQueues;
        _scheduleEntries = root._scheduleEntries; // published entries and their pauses are the store's, read by each queue's fires
    }

    /// <inheritdoc />
    public IJobDriver ForQueue(string queueName)
    {
        ArgumentException.ThrowIfNullOrEmpty(queueName);
        if (_root is not null)
        {
            return _root.ForQueue(queueName);
        }

        if (string.Equals(queueName, QueueName, StringComparison.Ordinal))
        {
            return this;
        }

        lock (_gate)
        {
            if (!_views.TryGetValue(queueName, out var view))
            {
                _views.Add(queueName, view = new InMemoryJobDriver(this, queueName));
            }

            return view;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Inside an ambient <see cref="Transaction"/> the job joins it (see <see cref="PushAsync"/>), and its key is taken
    /// for that transaction: a push of the key in the same transaction finds it held, a push of the key from other code
    /// waits until the transaction ends, as on PostgreSQL.
    /// </remarks>
    public Task<JobPushResult> PushUniqueAsync(JobPushRecord job, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        RefuseDatabaseTransaction(transaction);
        CheckPriority(job);
        cancellationToken.ThrowIfCancellationRequested(); // also when the key is held: the PostgreSQL driver sends nothing
        var ambient = Transaction.Current;
        return job.UniqueKey is { } key ? PushUniqueCoreAsync(job, key, ambient, cancellationToken) : PushAndReturn(job, ambient, cancellationToken);
    }

    private async Task<JobPushResult> PushUniqueCoreAsync(JobPushRecord job, string key, Transaction? ambient, CancellationToken cancellationToken)
    {
        var push = ambient is null ? null : JoinAmbient(ambient);
        while (true)
        {
            Blocker blocker;
            lock (_gate)
            {
                if (UncommittedBlocker([job], push, keys: true) is not { } found)
                {
                    return PushUniqueLocked(job, key, push);
                }

                blocker = found;
                StartWaiting(push, blocker);
            }

            await WaitAsync(push, blocker, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    /// <remarks>Inside an ambient <see cref="Transaction"/> the batch joins it, as <see cref="PushUniqueAsync"/> does.</remarks>
    public Task<IReadOnlyList<JobPushResult>> PushUniqueManyAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        RefuseDatabaseTransaction(transaction);
        cancellationToken.ThrowIfCancellationRequested();
        return PushUniqueManyCoreAsync(jobs, Transaction.Current, cancellationToken);
    }

    private async Task<IReadOnlyList<JobPushResult>> PushUniqueManyCoreAsync(IReadOnlyList<JobPushRecord> jobs, Transaction? ambient,
        CancellationToken cancellationToken)
    {
        var push = ambient is null ? null : JoinAmbient(ambient);
        while (true)
        {
            Blocker blocker;
            lock (_gate)
            {
                if (UncommittedBlocker(jobs, push, keys: true) is not { } found)
                {
                    return PushUniqueManyLocked(jobs, push);
                }

                blocker = found;
                StartWaiting(push, blocker);
            }

            await WaitAsync(push, blocker, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stores the jobs of <paramref name="jobs"/> whose keys are free (in <paramref name="push"/> when not null), all or
    /// nothing: everything that can refuse the batch is checked before the first job is stored. A job whose key is held
    /// (by a stored job, one of the batch's own transaction, or one earlier in the batch) is not stored, so its id is not
    /// checked: it reports the holder, as on PostgreSQL (whose insert yields on the key before it compares ids). Under the
    /// lock, with no other transaction's push in the way (<see cref="UncommittedBlocker"/>).
    /// </summary>
    private JobPushResult[] PushUniqueManyLocked(IReadOnlyList<JobPushRecord> jobs, AmbientPush? push)
    {
        CheckOpen(push);
        var now = _time.GetUtcNow();
        var ids = new HashSet<JobId>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            ArgumentNullException.ThrowIfNull(job, nameof(jobs));
            CheckPriority(job);
            if (job.UniqueKey is { } key && (keys.Contains(key) || IsKeyHeld(key, now) || _uncommittedKeys.ContainsKey(key)))
            {
                continue;
            }

            if ((_jobs.TryGetValue(job.Id, out var stored) && !IsRemovedBy(stored, job.UniqueKey, now)) || _uncommittedIds.ContainsKey(job.Id)
                || !ids.Add(job.Id))
            {
                throw new InvalidOperationException($"A job with id {job.Id} already exists.");
            }

            if (job.UniqueKey is { } taken)
            {
                keys.Add(taken);
            }
        }

        var results = new JobPushResult[jobs.Count];
        for (var i = 0; i < results.Length; i++)
        {
            var job = jobs[i];
            if (job.UniqueKey is { } key)
            {
                results[i] = PushUniqueLocked(job, key, push);
            }
            else
            {
                StoreLocked([job], push);
                results[i] = new JobPushResult(job.Id, Inserted: true);
            }
        }

        return results;
    }

    /// <summary>Whether a stored job of this queue holds <paramref name="key"/> (under the lock).</summary>
    private bool IsKeyHeld(string key, DateTimeOffset now)
        => _uniqueHolders.TryGetValue(key, out var holder) && _jobs.TryGetValue(holder, out var entry) && HoldsKey(entry, now);

    /// <summary>
    /// Whether <paramref name="stored"/> is the former holder of <paramref name="key"/> that a push of the key removes
    /// before it stores its job (<see cref="PushUniqueLocked"/>), freeing its id (under the lock).
    /// </summary>
    private bool IsRemovedBy(Entry stored, string? key, DateTimeOffset now)
        => key is not null && stored.RemoveWhenReleased && !HoldsKey(stored, now)
            && _uniqueHolders.TryGetValue(key, out var holder) && holder == stored.Id;

    /// <summary>
    /// Stores <paramref name="job"/> unless a job of this queue holds <paramref name="key"/> (in <paramref name="push"/>
    /// when not null); under the lock (the schedule store takes it for the fire record too). A key taken by a transaction
    /// that has not ended is held: the same transaction's pushes see their own job, and the pushes, scheduled fires and
    /// operators' runs of other code wait first (<see cref="UncommittedBlocker"/>).
    /// </summary>
    private JobPushResult PushUniqueLocked(JobPushRecord job, string key, AmbientPush? push)
    {
        CheckOpen(push);
        if (_uncommittedKeys.TryGetValue(key, out var uncommitted))
        {
            return new JobPushResult(uncommitted.Id, Inserted: false);
        }

        Entry? entry = null;
        if (_uniqueHolders.TryGetValue(key, out var holder) && _jobs.TryGetValue(holder, out entry) && HoldsKey(entry, _time.GetUtcNow()))
        {
            return new JobPushResult(holder, Inserted: false);
        }

        if (push is not null)
        {
            StoreLocked([job], push); // the former holder is removed at the commit (TakeKey)
            TakeKeyUncommitted(push, key, job.Id);
            return new JobPushResult(job.Id, Inserted: true);
        }

        if (entry is { RemoveWhenReleased: true })
        {
            _jobs.Remove(entry.Id);
        }

        StoreLocked([job], null);
        _uniqueHolders[key] = job.Id;
        return new JobPushResult(job.Id, Inserted: true);
    }

    /// <summary>
    /// Gives <paramref name="key"/> to committed job <paramref name="id"/>, removing a former holder that finished and was
    /// kept only for its key (under the lock).
    /// </summary>
    private void TakeKey(string key, JobId id, DateTimeOffset now)
    {
        if (_uniqueHolders.TryGetValue(key, out var holder) && holder != id && _jobs.TryGetValue(holder, out var former)
            && former.RemoveWhenReleased && !HoldsKey(former, now))
        {
            _jobs.Remove(holder);
        }

        _uniqueHolders[key] = id;
    }

    /// <summary>
    /// Whether finished job <paramref name="entry"/> may be put back (an operator's retry, a cleanup rerun) without a
    /// second job of its unique key in line: not while another job holds the key (it is left as it was, as a push of the
    /// key would store nothing); else it takes the key back (under the lock). With <paramref name="previewKeys"/> (a dry
    /// run) it changes nothing: it answers as if the jobs of the same batch before it had taken their keys back, which it
    /// notes there.
    /// </summary>
    private bool TryRetakeUniqueKey(Entry entry, DateTimeOffset now, HashSet<string>? previewKeys = null)
    {
        if (entry.IsUnfinished || entry.UniqueKey is not { } key)
        {
            return true;
        }

        if (_uncommittedKeys.ContainsKey(key))
        {
            return false; // a transaction that has not ended took the key: held, as by a stored job
        }

        if (_uniqueHolders.TryGetValue(key, out var holder) && holder != entry.Id && _jobs.TryGetValue(holder, out var held))
        {
            if (HoldsKey(held, now))
            {
                return false;
            }

            if (previewKeys is not null)
            {
                return previewKeys.Add(key);
            }

            if (held.RemoveWhenReleased)
            {
                _jobs.Remove(held.Id);
            }
        }

        if (previewKeys is not null)
        {
            return previewKeys.Add(key);
        }

        _uniqueHolders[key] = entry.Id;
        return true;
    }

    private async Task<JobPushResult> PushAndReturn(JobPushRecord job, Transaction? ambient, CancellationToken cancellationToken)
    {
        await PushCoreAsync([job], ambient, cancellationToken).ConfigureAwait(false);
        return new JobPushResult(job.Id, Inserted: true);
    }

    /// <summary>Jobs of this queue processing now (for <see cref="JobClaimRequest.GlobalConcurrency"/>; under the lock).</summary>
    private int ProcessingCount() => _jobs.Values.Count(e => e.State == JobState.Processing);

    /// <summary>Drops the unique keys whose job is gone (deleted by retention or cleanup), so keys never pushed again do not pile up (under the lock).</summary>
    private void ForgetGoneHolders()
    {
        foreach (var (key, holder) in _uniqueHolders.ToArray())
        {
            if (!_jobs.ContainsKey(holder))
            {
                _uniqueHolders.Remove(key);
            }
        }
    }

    private static bool HoldsKey(Entry entry, DateTimeOffset now)
        => entry.State is not (JobState.Completed or JobState.Failed or JobState.Cancelled)
            || (entry.FinishedAt is { } finished && finished + entry.UniqueFor > now);
}
