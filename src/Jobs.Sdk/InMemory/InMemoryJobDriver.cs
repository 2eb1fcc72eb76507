using System.Data.Common;
using System.Text;
using System.Transactions;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

/// <summary>
/// The embedded driver: full queue semantics (delay, priority, cancel, pause, resume, retries, leases, retention)
/// in process memory. Thread-safe. Nothing survives the process.
/// </summary>
public sealed partial class InMemoryJobDriver : IJobDriver, IJobScheduleStore, IAmbientTransactionPushes
{
    private readonly object _gate;
    private readonly Dictionary<JobId, Entry> _jobs = [];
    private readonly SortedSet<Entry> _waiting = new(WaitingOrder.Instance);
    private readonly InMemoryJobDriverOptions _options;
    private readonly TimeProvider _time;
    private TaskCompletionSource _signal = NewSignal();
    private bool _signalled;
    private long _sequence;

    /// <summary>Creates the driver.</summary>
    public InMemoryJobDriver(InMemoryJobDriverOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new InMemoryJobDriverOptions();
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        _gate = new object();
        _pausedQueues = new(StringComparer.Ordinal);
        _scheduleEntries = [];
    }

    /// <inheritdoc />
    public string QueueName => _options.QueueName;

    /// <inheritdoc />
    /// <remarks>Raised by the cancel, on its caller's thread. Each handler runs on its own: one that throws is logged (event
    /// 1023), the cancel's caller does not see it, and the others still run.</remarks>
    public event Action<JobLease>? RunningJobCancelled;

    /// <inheritdoc />
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken)
        => cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : Task.CompletedTask;

    /// <inheritdoc />
    /// <remarks>
    /// Given no transaction inside an ambient <see cref="Transaction"/> (a <see cref="TransactionScope"/>, seen at the
    /// call), the jobs join it, as on PostgreSQL: stored when it commits, dropped when it does not, invisible until then.
    /// A push that would wait for another transaction that waits for this one fails at once with a
    /// <see cref="System.Data.Common.DbException"/> whose <see cref="System.Data.Common.DbException.SqlState"/> is 40P01
    /// (a deadlock, as PostgreSQL reports it), and its transaction's pushes are undone.
    /// </remarks>
    public Task PushAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        RefuseDatabaseTransaction(transaction);
        cancellationToken.ThrowIfCancellationRequested();
        var ambient = Transaction.Current;
        if (ambient is null)
        {
            lock (_gate)
            {
                if (UncommittedBlocker(jobs, null, keys: false) is null)
                {
                    StoreLocked(jobs, null); // the common case, at once (its errors thrown here, as before scopes were joined)
                    return Task.CompletedTask;
                }
            }
        }

        return PushCoreAsync(jobs, ambient, cancellationToken);
    }

    /// <summary>
    /// Stores <paramref name="jobs"/>, or keeps them aside in <paramref name="ambient"/> until it ends; first waits for
    /// another transaction that pushed one of their ids, as PostgreSQL's insert does.
    /// </summary>
    private async Task PushCoreAsync(IReadOnlyList<JobPushRecord> jobs, Transaction? ambient, CancellationToken cancellationToken)
    {
        var push = ambient is null ? null : JoinAmbient(ambient);
        while (true)
        {
            Blocker blocker;
            lock (_gate)
            {
                if (UncommittedBlocker(jobs, push, keys: false) is not { } found)
                {
                    StoreLocked(jobs, push);
                    return;
                }

                blocker = found;
                StartWaiting(push, blocker);
            }

            await WaitAsync(push, blocker, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void RefuseDatabaseTransaction(DbTransaction? transaction)
    {
        if (transaction is not null)
        {
            throw new NotSupportedException("The in-memory driver cannot join a database transaction. Use the PostgreSQL driver for transactional pushes.");
        }
    }

    /// <summary>
    /// Stores <paramref name="jobs"/>, all or nothing, or keeps them aside in <paramref name="push"/> (null: none) until
    /// its transaction ends (under the lock).
    /// </summary>
    private void StoreLocked(IReadOnlyList<JobPushRecord> jobs, AmbientPush? push)
    {
        CheckOpen(push);
        var now = Stored(_time.GetUtcNow());

        // All or nothing, as the PostgreSQL driver's one statement: an id stored or repeated refuses the whole batch.
        var ids = jobs.Count > 1 ? new HashSet<JobId>(jobs.Count) : null;
        foreach (var record in jobs)
        {
            CheckPriority(record);
            if (_jobs.ContainsKey(record.Id) || _uncommittedIds.ContainsKey(record.Id) || ids?.Add(record.Id) == false)
            {
                throw new InvalidOperationException($"A job with id {record.Id} already exists.");
            }
        }

        foreach (var record in jobs)
        {
            var entry = new Entry
            {
                Id = record.Id,
                Name = record.Name,
                Payload = record.Payload.ToArray(),
                Priority = record.Priority,
                MaxAttempts = record.MaxAttempts,
                Headers = record.Headers,
                CreatedAt = now,
                RunAt = record.RunAt is { } runAt ? Stored(runAt) : now,
                LastModified = now,
                State = JobState.Pending,
                UniqueKey = record.UniqueKey,
                UniqueFor = record.UniqueFor,
                ConcurrencyKey = record.ConcurrencyKey,
                ConcurrencyLimit = record.ConcurrencyKey is null ? 0 : Math.Max(record.ConcurrencyLimit ?? 1, 1),
            };
            if (push is null)
            {
                Add(entry);
            }
            else
            {
                AddUncommitted(push, entry);
            }
        }

        if (push is null)
        {
            Signal();
        }
    }

    /// <summary>Puts <paramref name="entry"/> in the store and in line, behind its concurrency key's jobs (under the lock).</summary>
    private void Add(Entry entry)
    {
        entry.KeySeq = ++_sequence;
        _jobs.Add(entry.Id, entry);
        _waiting.Add(entry);
    }

    /// <summary>
    /// Refuses a priority <see cref="JobPriority"/> does not define, as the PostgreSQL driver does (its claim reads only
    /// those), so that a push that works here works there.
    /// </summary>
    private static void CheckPriority(JobPushRecord job)
    {
        if (!Enum.IsDefined(job.Priority))
        {
            throw new ArgumentOutOfRangeException(nameof(job), job.Priority,
                $"Job {job.Id} ('{job.Name}') has priority {(int)job.Priority}, which is not a JobPriority value; use JobPriority.Lowest … JobPriority.Highest.");
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(request.WorkerId, nameof(request)); // as the PostgreSQL driver
        if (request.MaxJobs <= 0)
        {
            return Task.FromResult<IReadOnlyList<ClaimedJob>>([]);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        var claimed = new List<ClaimedJob>();
        lock (_gate)
        {
            if (IsQueuePaused)
            {
                return Task.FromResult<IReadOnlyList<ClaimedJob>>(claimed);
            }

            var max = request.GlobalConcurrency is { } limit ? Math.Min(request.MaxJobs, limit - ProcessingCount()) : request.MaxJobs;
            List<Entry>? taken = null;
            foreach (var entry in _waiting)
            {
                if (claimed.Count >= max)
                {
                    break;
                }

                if (entry.RunAt > now || (request.JobNames is { } names && !names.Contains(entry.Name)) || !PassesConcurrencyGate(entry))
                {
                    continue;
                }

                (taken ??= []).Add(entry);
                entry.Attempts++;
                entry.State = JobState.Processing;
                entry.WorkerId = request.WorkerId;
                entry.LeaseExpiresAt = now + request.LeaseDuration;
                entry.StartedAt = request.StartingNow is not { } startingNow || claimed.Count < startingNow ? now : null;
                entry.LastModified = now;
                entry.CancelRequested = false;
                entry.LeaseToken = Guid.NewGuid();
                claimed.Add(new ClaimedJob
                {
                    LeaseToken = entry.LeaseToken.Value,
                    Id = entry.Id,
                    Name = entry.Name,
                    Payload = entry.Payload,
                    Attempt = entry.Attempts,
                    MaxAttempts = entry.MaxAttempts,
                    Priority = entry.Priority,
                    QueuedAt = entry.CreatedAt,
                    RunAt = entry.RunAt,
                    Headers = entry.Headers,
                });
            }

            if (taken is not null)
            {
                foreach (var entry in taken)
                {
                    _waiting.Remove(entry);
                }
            }
        }

        return Task.FromResult<IReadOnlyList<ClaimedJob>>(claimed);
    }

    /// <inheritdoc />
    public async Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        Task signal;
        TimeSpan wait;
        lock (_gate)
        {
            if (_signalled)
            {
                _signalled = false;
                return;
            }

            signal = _signal.Task;
            wait = _options.PollInterval;
            var now = _time.GetUtcNow();
            foreach (var entry in _waiting)
            {
                var untilDue = entry.RunAt - now;
                if (untilDue < wait)
                {
                    wait = untilDue < TimeSpan.Zero ? TimeSpan.Zero : untilDue;
                }
            }
        }

        if (wait == TimeSpan.Zero)
        {
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(wait, _time, cts.Token);
        await Task.WhenAny(signal, delay).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        lock (_gate)
        {
            _signalled = false;
        }
    }

    /// <inheritdoc />
    public Task CompleteAsync(string workerId, IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken)
    {
        // As the PostgreSQL driver: a worker id is required, an empty batch is done at once, a cancelled one records nothing.
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0)
        {
            return Task.CompletedTask;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var requeued = false;
            foreach (var outcome in outcomes)
            {
                if (!_jobs.TryGetValue(outcome.Id, out var entry) || entry.State != JobState.Processing || entry.WorkerId != workerId
                    || entry.LeaseToken != outcome.LeaseToken || RemoveIfDeleted(entry)) // deleted while it ran: whatever the outcome, gone
                {
                    continue;
                }

                entry.LeaseToken = null;
                entry.LastModified = now;
                entry.LeaseExpiresAt = null;
                if (outcome.Kind is not (JobOutcomeKind.Release or JobOutcomeKind.Cancelled))
                {
                    entry.StartedAt ??= now; // a prefetched job that ran before a renewal recorded its start
                }

                // Stored as the PostgreSQL driver stores it: no NUL, no unpaired surrogate, at most JobErrorText.MaxLength.
                var error = JobErrorText.Sanitize(outcome.Error);
                if (error is not null && outcome.Kind is not JobOutcomeKind.Completed)
                {
                    entry.AddError(outcome.Attempt, now, error, JobErrorText.Sanitize(outcome.StackTrace));
                    entry.LastError = error; // whatever the outcome's kind; an outcome without an error leaves the last one
                }

                var kind = entry.CancelRequested && outcome.Kind is JobOutcomeKind.Retry or JobOutcomeKind.Reschedule or JobOutcomeKind.Release or JobOutcomeKind.Failed
                    ? JobOutcomeKind.Cancelled // sticky cancel: only success ends a cancel-requested job otherwise
                    : outcome.Kind;
                entry.CancelRequested = false;
                switch (kind)
                {
                    case JobOutcomeKind.Completed:
                        entry.LastError = null;
                        Finish(entry, JobState.Completed, _options.Retention.CompletedJobs, now, null);
                        break;
                    case JobOutcomeKind.Failed:
                        Finish(entry, JobState.Failed, _options.Retention.FailedJobs, now, error);
                        break;
                    case JobOutcomeKind.Cancelled:
                        Finish(entry, JobState.Cancelled, _options.Retention.CancelledJobs, now, error);
                        break;
                    case JobOutcomeKind.Retry:
                        Requeue(entry, JobState.Retrying, now + outcome.Delay);
                        requeued = true;
                        break;
                    case JobOutcomeKind.Reschedule:
                        entry.Attempts = Math.Max(outcome.NextAttempt - 1, 0);
                        Requeue(entry, JobState.Pending, outcome.RunAt is { } at ? (at > now ? at : now) : now + outcome.Delay);
                        requeued = true;
                        break;
                    case JobOutcomeKind.Release:
                        entry.Attempts = Math.Max(entry.Attempts - 1, 0);
                        Requeue(entry, JobState.Pending, entry.RunAt);
                        requeued = true;
                        break;
                }

                requeued |= entry.ConcurrencyKey is not null; // the next job of its key may be claimable now
            }

            if (requeued)
            {
                Signal();
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _signal.TrySetResult();
            foreach (var view in _views.Values)
            {
                view._signal.TrySetResult();
                JobsInstrumentation.ForgetQueue(view); // the state gauge stops reporting them now, not when they are collected
            }
        }

        JobsInstrumentation.ForgetQueue(this);

        return default;
    }

    private void Requeue(Entry entry, JobState state, DateTimeOffset runAt)
    {
        _waiting.Remove(entry);
        if (!entry.IsUnfinished)
        {
            entry.KeySeq = ++_sequence; // a finished job put back goes to the back of its concurrency key's line
            entry.RemoveWhenReleased = false; // back in line: the retention of the state it ends in applies then
        }

        entry.State = state;
        entry.RunAt = Stored(runAt); // every run time a job is put back with, as PostgreSQL stores it
        entry.PausedFrom = null;
        _waiting.Add(entry);
    }

    private void Finish(Entry entry, JobState state, Retain retain, DateTimeOffset now, string? error)
    {
        if (retain == Retain.No)
        {
            if (entry.UniqueKey is null || entry.UniqueFor <= TimeSpan.Zero)
            {
                _jobs.Remove(entry.Id);
                return;
            }

            entry.RemoveWhenReleased = true; // kept while its unique key holds; the next push of the key removes it
        }

        entry.State = state;
        entry.FinishedAt = now;
        entry.LastModified = now;
        if (error is not null)
        {
            entry.LastError = error;
        }
    }

    private void Signal()
    {
        _signalled = true;
        var old = _signal;
        _signal = NewSignal();
        old.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
