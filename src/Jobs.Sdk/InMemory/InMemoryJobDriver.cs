using System.Data.Common;
using System.Text;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

/// <summary>Settings of the in-memory driver.</summary>
public sealed class InMemoryJobDriverOptions
{
    /// <summary>The queue name. Default <c>"default"</c>.</summary>
    public string QueueName { get; set; } = "default";

    /// <summary>What is kept once jobs finish.</summary>
    public RetentionPolicy Retention { get; set; } = new();

    /// <summary>Longest idle wait between checks for due jobs. Default 1 s (pushes wake workers at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// The embedded driver: full queue semantics (delay, priority, cancel, pause, resume, retries, leases, retention)
/// in process memory. Thread-safe. Nothing survives the process.
/// </summary>
public sealed partial class InMemoryJobDriver : IJobDriver, IJobScheduleStore
{
    /// <summary>How far below an entry's latest fire time individual fire records are kept (older fires count as recorded).</summary>
    private static readonly TimeSpan ScheduleRecordWindow = TimeSpan.FromDays(1);

    private readonly object _gate = new();
    private readonly Dictionary<JobId, Entry> _jobs = [];
    private readonly SortedSet<Entry> _waiting = new(WaitingOrder.Instance);
    private readonly InMemoryJobDriverOptions _options;
    private readonly TimeProvider _time;
    private TaskCompletionSource _signal = NewSignal();
    private bool _signalled;
    private long _sequence;
    private readonly Dictionary<string, ScheduleRecords> _schedules = new(StringComparer.Ordinal);

    /// <summary>Creates the driver.</summary>
    public InMemoryJobDriver(InMemoryJobDriverOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new InMemoryJobDriverOptions();
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public string QueueName => _options.QueueName;

    /// <inheritdoc />
    public event Action<JobId>? RunningJobCancelled;

    /// <inheritdoc />
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task PushAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (transaction is not null)
        {
            throw new NotSupportedException("The in-memory driver cannot join a database transaction. Use the PostgreSQL driver for transactional pushes.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            foreach (var record in jobs)
            {
                if (_jobs.ContainsKey(record.Id))
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
                    RunAt = record.RunAt ?? now,
                    LastModified = now,
                    Sequence = ++_sequence,
                    State = JobState.Pending,
                };
                _jobs.Add(entry.Id, entry);
                _waiting.Add(entry);
            }

            Signal();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        var claimed = new List<ClaimedJob>();
        lock (_gate)
        {
            if (IsQueuePaused)
            {
                return Task.FromResult<IReadOnlyList<ClaimedJob>>(claimed);
            }

            List<Entry>? taken = null;
            foreach (var entry in _waiting)
            {
                if (claimed.Count >= request.MaxJobs)
                {
                    break;
                }

                if (entry.RunAt > now)
                {
                    continue;
                }

                (taken ??= []).Add(entry);
                entry.Attempts++;
                entry.State = JobState.Processing;
                entry.WorkerId = request.WorkerId;
                entry.LeaseExpiresAt = now + request.LeaseDuration;
                entry.StartedAt = now;
                entry.LastModified = now;
                entry.CancelRequested = false;
                claimed.Add(new ClaimedJob
                {
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
        ArgumentNullException.ThrowIfNull(outcomes);
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var requeued = false;
            foreach (var outcome in outcomes)
            {
                if (!_jobs.TryGetValue(outcome.Id, out var entry) || entry.State != JobState.Processing || entry.WorkerId != workerId)
                {
                    continue;
                }

                entry.LastModified = now;
                entry.LeaseExpiresAt = null;
                switch (outcome.Kind)
                {
                    case JobOutcomeKind.Completed:
                        Finish(entry, JobState.Completed, _options.Retention.CompletedJobs, now, null);
                        break;
                    case JobOutcomeKind.Failed:
                        Finish(entry, JobState.Failed, _options.Retention.FailedJobs, now, outcome.Error);
                        break;
                    case JobOutcomeKind.Cancelled:
                        Finish(entry, JobState.Cancelled, _options.Retention.CancelledJobs, now, outcome.Error);
                        break;
                    case JobOutcomeKind.Retry:
                        entry.LastError = outcome.Error;
                        Requeue(entry, JobState.Retrying, now + outcome.Delay);
                        requeued = true;
                        break;
                    case JobOutcomeKind.Reschedule:
                        entry.Attempts = Math.Max(outcome.NextAttempt - 1, 0);
                        Requeue(entry, JobState.Pending, now + outcome.Delay);
                        requeued = true;
                        break;
                    case JobOutcomeKind.Release:
                        entry.Attempts = Math.Max(entry.Attempts - 1, 0);
                        Requeue(entry, JobState.Pending, entry.RunAt);
                        requeued = true;
                        break;
                }
            }

            if (requeued)
            {
                Signal();
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<LeaseRenewalResult> RenewLeasesAsync(string workerId, IReadOnlyList<JobId> running, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(running);
        var now = _time.GetUtcNow();
        List<JobId>? lost = null, cancel = null;
        lock (_gate)
        {
            foreach (var id in running)
            {
                if (_jobs.TryGetValue(id, out var entry) && entry.State == JobState.Processing && entry.WorkerId == workerId)
                {
                    entry.LeaseExpiresAt = now + leaseDuration;
                    if (entry.CancelRequested)
                    {
                        (cancel ??= []).Add(id);
                    }
                }
                else
                {
                    (lost ??= []).Add(id);
                }
            }
        }

        return Task.FromResult(lost is null && cancel is null ? LeaseRenewalResult.None : new LeaseRenewalResult(lost ?? [], cancel ?? []));
    }

    /// <inheritdoc />
    public Task<int> RescueExpiredLeasesAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var rescued = 0;
        lock (_gate)
        {
            foreach (var entry in _jobs.Values.ToArray())
            {
                if (entry.State != JobState.Processing || entry.LeaseExpiresAt is not { } expires || expires > now)
                {
                    continue;
                }

                rescued++;
                entry.LastModified = now;
                entry.LeaseExpiresAt = null;
                entry.LastError = $"Jobs.Sdk.LeaseExpired: worker {entry.WorkerId} stopped renewing the lease of attempt {entry.Attempts}.";
                if (entry.Attempts < entry.MaxAttempts)
                {
                    Requeue(entry, JobState.Retrying, now);
                }
                else
                {
                    Finish(entry, JobState.Failed, _options.Retention.FailedJobs, now, entry.LastError);
                }
            }

            if (rescued > 0)
            {
                Signal();
            }
        }

        return Task.FromResult(rescued);
    }

    /// <inheritdoc />
    public Task<bool> CancelAsync(JobId id, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var raise = false;
        var result = false;
        lock (_gate)
        {
            if (_jobs.TryGetValue(id, out var entry))
            {
                switch (entry.State)
                {
                    case JobState.Pending or JobState.Retrying or JobState.Paused:
                        _waiting.Remove(entry);
                        Finish(entry, JobState.Cancelled, _options.Retention.CancelledJobs, now, null);
                        result = true;
                        break;
                    case JobState.Processing:
                        entry.CancelRequested = true;
                        raise = true;
                        result = true;
                        break;
                }
            }
        }

        if (raise)
        {
            RunningJobCancelled?.Invoke(id);
        }

        return Task.FromResult(result);
    }

    /// <inheritdoc />
    public Task<bool> PauseAsync(JobId id, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_jobs.TryGetValue(id, out var entry) || entry.State is not (JobState.Pending or JobState.Retrying))
            {
                return Task.FromResult(false);
            }

            _waiting.Remove(entry);
            entry.PausedFrom = entry.State;
            entry.State = JobState.Paused;
            entry.LastModified = _time.GetUtcNow();
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<bool> ResumeAsync(JobId id, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_jobs.TryGetValue(id, out var entry) || entry.State != JobState.Paused)
            {
                return Task.FromResult(false);
            }

            Requeue(entry, entry.PausedFrom ?? JobState.Pending, entry.RunAt);
            entry.LastModified = _time.GetUtcNow();
            Signal();
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_jobs.TryGetValue(id, out var e) ? ToInfo(e) : null);
        }
    }

    /// <inheritdoc />
    public Task<JobCounts> GetCountsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(JobCounts.From(_jobs.Values.GroupBy(e => e.State).Select(g => new KeyValuePair<JobState, long>(g.Key, g.LongCount()))));
        }
    }

    /// <inheritdoc />
    public Task CleanupAsync(CleanupOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var rerun = false;
            foreach (var entry in _jobs.Values.ToArray())
            {
                var action = options.For(entry.State);
                switch (action.Kind)
                {
                    case CleanupActionKind.Remove when action.MaxAge is not { } maxAge || entry.LastModified < now - maxAge:
                        _waiting.Remove(entry);
                        _jobs.Remove(entry.Id);
                        break;
                    case CleanupActionKind.Rerun:
                        _waiting.Remove(entry);
                        entry.Attempts = 0;
                        entry.LastError = null;
                        entry.FinishedAt = null;
                        entry.WorkerId = null;
                        entry.LeaseExpiresAt = null;
                        entry.LastModified = now;
                        Requeue(entry, JobState.Pending, now);
                        rerun = true;
                        break;
                }
            }

            if (rerun)
            {
                Signal();
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<DateTimeOffset?> GetLastFireTimeAsync(string entryKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entryKey);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_schedules.TryGetValue(entryKey, out var records) ? records.Last : (DateTimeOffset?)null);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Fire records are kept for a day below the entry's latest fire; a fire older than that counts as recorded, so memory
    /// stays bounded for frequent schedules.
    /// </remarks>
    public Task<bool> TryPushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entryKey);
        ArgumentNullException.ThrowIfNull(job);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_schedules.TryGetValue(entryKey, out var records))
            {
                records = new ScheduleRecords();
                _schedules.Add(entryKey, records);
            }

            if (records.Fires.Contains(fireTime) || (records.Last is { } latest && fireTime < latest - ScheduleRecordWindow))
            {
                return Task.FromResult(false);
            }

            // Push first: if it throws, the fire stays unrecorded and a retry can push it. A paused entry records the fire only.
            var paused = IsSchedulePaused(entryKey);
            if (!paused)
            {
                PushAsync([job], null, cancellationToken).GetAwaiter().GetResult();
            }

            records.Fires.Add(fireTime);
            if (records.Last is not { } last || fireTime > last)
            {
                records.Last = fireTime;
                records.Fires.RemoveWhere(f => f < fireTime - ScheduleRecordWindow);
            }

            return Task.FromResult(!paused);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _signal.TrySetResult();
        }

        return default;
    }

    private void Requeue(Entry entry, JobState state, DateTimeOffset runAt)
    {
        _waiting.Remove(entry);
        entry.State = state;
        entry.RunAt = runAt;
        entry.PausedFrom = null;
        entry.Sequence = ++_sequence;
        _waiting.Add(entry);
    }

    private void Finish(Entry entry, JobState state, Retain retain, DateTimeOffset now, string? error)
    {
        if (retain == Retain.No)
        {
            _jobs.Remove(entry.Id);
            return;
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

    private JobInfo ToInfo(Entry e) => new()
    {
        Id = e.Id,
        Name = e.Name,
        Queue = QueueName,
        State = e.State,
        Priority = e.Priority,
        Attempts = e.Attempts,
        MaxAttempts = e.MaxAttempts,
        Payload = Encoding.UTF8.GetString(e.Payload),
        CreatedAt = e.CreatedAt,
        RunAt = e.RunAt,
        StartedAt = e.StartedAt,
        FinishedAt = e.FinishedAt,
        LastError = e.LastError,
        WorkerId = e.WorkerId,
    };

    private sealed class ScheduleRecords
    {
        public HashSet<DateTimeOffset> Fires { get; } = [];
        public DateTimeOffset? Last { get; set; }
    }

    private sealed class Entry
    {
        public required JobId Id { get; init; }
        public required string Name { get; init; }
        public required byte[] Payload { get; init; }
        public required JobPriority Priority { get; set; }
        public required int MaxAttempts { get; set; }
        public IReadOnlyDictionary<string, string>? Headers { get; init; }
        public required DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset RunAt { get; set; }
        public DateTimeOffset LastModified { get; set; }
        public long Sequence { get; set; }
        public JobState State { get; set; }
        public JobState? PausedFrom { get; set; }
        public int Attempts { get; set; }
        public string? WorkerId { get; set; }
        public DateTimeOffset? LeaseExpiresAt { get; set; }
        public DateTimeOffset? StartedAt { get; set; }
        public DateTimeOffset? FinishedAt { get; set; }
        public string? LastError { get; set; }
        public bool CancelRequested { get; set; }
    }

    /// <summary>Priority (highest first), then run time, then push order.</summary>
    private sealed class WaitingOrder : IComparer<Entry>
    {
        public static readonly WaitingOrder Instance = new();

        public int Compare(Entry? x, Entry? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            var c = y!.Priority.CompareTo(x!.Priority);
            if (c != 0)
            {
                return c;
            }

            c = x.RunAt.CompareTo(y.RunAt);
            return c != 0 ? c : x.Sequence.CompareTo(y.Sequence);
        }
    }
}
