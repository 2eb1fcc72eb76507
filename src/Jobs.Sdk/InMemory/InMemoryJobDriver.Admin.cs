using System.Text;
using System.Text.Json;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

// The admin store of the in-memory driver (JobAdmin's SPI): queries, bulk actions, queue pause, schedule and worker
// catalogs, audit log. Same lock and semantics as the PostgreSQL store; the conformance tests run against both.
public sealed partial class InMemoryJobDriver : IJobAdminStore
{
    private const int MaxAuditEntries = 10_000;

    /// <summary>How long after its last publication a schedule entry that is not paused is forgotten.</summary>
    private static readonly TimeSpan ForgetScheduleEntriesAfter = TimeSpan.FromDays(7);

    private readonly Dictionary<string, QueuePause> _pausedQueues;
    private readonly Dictionary<string, WorkerPresence> _workers = new(StringComparer.Ordinal);
    /// <summary>The published entries by queue and key, as the PostgreSQL store keys them: a key may be published in several queues.</summary>
    private readonly Dictionary<(string Queue, string Key), PublishedEntry> _scheduleEntries;
    private readonly LinkedList<AuditEntry> _audit = new();
    private long _auditSequence;

    private bool IsQueuePaused => _pausedQueues.ContainsKey(QueueName);

    /// <summary>Whether this queue's entry <paramref name="entryKey"/> is paused (as the PostgreSQL store reads it: per queue and entry).</summary>
    private bool IsSchedulePaused(string entryKey)
        => _scheduleEntries.TryGetValue((QueueName, entryKey), out var e) && e.Paused;

    /// <inheritdoc />
    Task<JobPage> IJobAdminStore.ListJobsAsync(JobQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        var cursor = query.Cursor is null ? (JobCursor?)null : JobCursor.Parse(query.Cursor, query.Order);
        using var contains = query.PayloadContains is null ? null : JobQueryMatcher.ParseJson(query.PayloadContains);
        List<JobSummary> matches;
        lock (_gate)
        {
            matches = AllQueues().SelectMany(q => q.Matching(query, contains?.RootElement))
                .Where(m => cursor is not { } c || JobQueryMatcher.IsAfter(c, m))
                .ToList();
        }

        matches.Sort(query.Order == JobOrder.RunAt
            ? static (a, b) => a.RunAt != b.RunAt ? a.RunAt.CompareTo(b.RunAt) : a.Id.Value.CompareTo(b.Id.Value)
            : static (a, b) => b.Id.Value.CompareTo(a.Id.Value));
        var items = matches.Take(query.Limit).ToArray();
        var next = matches.Count > query.Limit ? JobCursor.For(query.Order, items[^1]) : null;
        return Task.FromResult(new JobPage(items, next));
    }

    /// <inheritdoc />
    Task<IReadOnlyList<JobId>> IJobAdminStore.FindJobIdsAsync(JobQuery query, JobId? after, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        using var contains = query.PayloadContains is null ? null : JobQueryMatcher.ParseJson(query.PayloadContains);
        lock (_gate)
        {
            IReadOnlyList<JobId> ids = AllQueues().SelectMany(q => q.Matching(query, contains?.RootElement))
                .Select(m => m.Id)
                .Where(id => after is not { } a || id.Value.CompareTo(a.Value) > 0)
                .Order(IdOrder.Instance)
                .Take(limit)
                .ToArray();
            return Task.FromResult(ids);
        }
    }

    /// <inheritdoc />
    Task<JobDetails?> IJobAdminStore.GetJobAsync(JobId id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (AllQueues().FirstOrDefault(q => q._jobs.ContainsKey(id)) is not { } owner)
            {
                return Task.FromResult<JobDetails?>(null);
            }

            var e = owner._jobs[id];
            var summary = owner.Summary(e);
            return Task.FromResult<JobDetails?>(new JobDetails
            {
                Id = summary.Id, Name = summary.Name, QueueName = summary.QueueName, State = summary.State, Priority = summary.Priority,
                Attempts = summary.Attempts, MaxAttempts = summary.MaxAttempts, QueuedAt = summary.QueuedAt, RunAt = summary.RunAt,
                StartedAt = summary.StartedAt, FinishedAt = summary.FinishedAt, LastError = summary.LastError, WorkerId = summary.WorkerId,
                DeleteRequested = summary.DeleteRequested,
                Payload = Encoding.UTF8.GetString(e.Payload),
                Headers = e.Headers is null ? new Dictionary<string, string>(0) : new Dictionary<string, string>(e.Headers, StringComparer.Ordinal),
                Errors = [.. e.Errors],
                LeaseExpiresAt = e.State == JobState.Processing ? e.LeaseExpiresAt : null,
                CancelRequested = e.CancelRequested,
                UpdatedAt = e.LastModified,
            });
        }
    }

    /// <inheritdoc />
    Task<int> IJobAdminStore.ApplyAsync(JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        var changed = 0;
        List<(InMemoryJobDriver Queue, JobLease Lease)>? cancelRunning = null;
        lock (_gate)
        {
            foreach (var queue in AllQueues())
            {
                changed += queue.ApplyLocked(action, ids, now, ref cancelRunning);
            }
        }

        if (cancelRunning is not null)
        {
            foreach (var (queue, lease) in cancelRunning)
            {
                RaiseRunningJobCancelled(queue.RunningJobCancelled, lease, ObserverLog); // the running job's queue: its worker listens there
            }
        }

        return Task.FromResult(changed);
    }

    /// <inheritdoc />
    Task<IReadOnlyList<JobId>> IJobAdminStore.PreviewAsync(JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        var changing = new List<JobId>();
        lock (_gate)
        {
            foreach (var queue in AllQueues())
            {
                // The unique keys jobs earlier in the batch would take back: a later job of the same key would find it held.
                var keys = new HashSet<string>(StringComparer.Ordinal);
                changing.AddRange(ids.Where(id => queue._jobs.TryGetValue(id, out var e) && queue.Applies(action, e, now, keys)));
            }
        }

        changing.Sort(IdOrder.Instance);
        return Task.FromResult<IReadOnlyList<JobId>>(changing);
    }

    /// <summary>
    /// Whether <paramref name="action"/> changes job <paramref name="e"/> now (under the lock): the one check of
    /// <see cref="ApplyLocked"/> and of a preview. A retry of a finished unique job takes its key back here
    /// (<see cref="TryRetakeUniqueKey"/>); with <paramref name="previewKeys"/> it only notes the key there instead.
    /// </summary>
    private bool Applies(JobAdminAction action, Entry e, DateTimeOffset now, HashSet<string>? previewKeys)
    {
        // A filter's states are checked here, under the lock, whatever the action: the job may have moved since it was found.
        if (action.OnlyStates is { } only && !only.Contains(e.State))
        {
            return false;
        }

        return action.Kind switch
        {
            JobAdminActionKind.Retry => e.State is JobState.Failed or JobState.Cancelled or JobState.Retrying && TryRetakeUniqueKey(e, now, previewKeys),
            JobAdminActionKind.Cancel => e.State is JobState.Pending or JobState.Retrying or JobState.Paused || (e.State == JobState.Processing && !e.CancelRequested),
            JobAdminActionKind.Delete => e.State != JobState.Processing || !e.DeleteRequested,
            JobAdminActionKind.SetPriority => e.State is JobState.Pending or JobState.Retrying or JobState.Paused && e.Priority != action.Priority,
            JobAdminActionKind.RunNow => e.State is JobState.Pending or JobState.Retrying && e.RunAt > now,
            _ => false,
        };
    }

    /// <summary>Applies <paramref name="action"/> to the jobs of <paramref name="ids"/> this queue holds (under the lock); returns how many changed.</summary>
    private int ApplyLocked(JobAdminAction action, IReadOnlyList<JobId> ids, DateTimeOffset now, ref List<(InMemoryJobDriver Queue, JobLease Lease)>? cancelRunning)
    {
        var changed = 0;
        foreach (var id in ids)
        {
            if (!_jobs.TryGetValue(id, out var e) || !Applies(action, e, now, previewKeys: null))
            {
                continue;
            }

            switch (action.Kind)
            {
                case JobAdminActionKind.Retry:
                    if (action.FromFirstAttempt)
                    {
                        e.Attempts = 0;
                    }
                    else
                    {
                        e.MaxAttempts = Math.Max(e.MaxAttempts, e.Attempts + 1);
                    }

                    e.FinishedAt = null;
                    e.LeaseExpiresAt = null;
                    e.CancelRequested = false;
                    Requeue(e, JobState.Pending, now);
                    break;
                case JobAdminActionKind.Cancel when e.State == JobState.Processing:
                    e.CancelRequested = true;
                    (cancelRunning ??= []).Add((this, new JobLease(id, e.LeaseToken ?? Guid.Empty)));
                    break;
                case JobAdminActionKind.Cancel:
                    _waiting.Remove(e);
                    e.PausedFrom = null;
                    e.State = JobState.Cancelled;
                    e.FinishedAt = now;
                    break;
                case JobAdminActionKind.Delete when e.State == JobState.Processing:
                    // Cancelled and removed when its attempt ends (RemoveIfDeleted): until its handler really ended it
                    // keeps its slots in its key's and queue's limits. Its handler is told at once, as a cancel tells it.
                    e.CancelRequested = true;
                    e.DeleteRequested = true;
                    (cancelRunning ??= []).Add((this, new JobLease(id, e.LeaseToken ?? Guid.Empty)));
                    break;
                case JobAdminActionKind.Delete:
                    _waiting.Remove(e);
                    _jobs.Remove(id);
                    break;
                case JobAdminActionKind.SetPriority:
                    var waiting = _waiting.Remove(e);
                    e.Priority = action.Priority;
                    if (waiting)
                    {
                        _waiting.Add(e);
                    }

                    break;
                case JobAdminActionKind.RunNow:
                    Requeue(e, e.State, now);
                    break;
                default:
                    continue;
            }

            e.LastModified = now;
            changed++;
        }

        if (changed > 0)
        {
            Signal();
        }

        return changed;
    }

    /// <summary>
    /// Removes <paramref name="entry"/> (processing, its attempt just ended: an outcome or a lease rescue) when an operator
    /// deleted it while it ran; returns whether it did (and wakes claims when the next job of its key may run now). Under the lock.
    /// </summary>
    private bool RemoveIfDeleted(Entry entry)
    {
        if (!entry.DeleteRequested)
        {
            return false;
        }

        _jobs.Remove(entry.Id);
        if (entry.ConcurrencyKey is not null)
        {
            Signal();
        }

        return true;
    }

    /// <inheritdoc />
    Task<IReadOnlyList<QueueInfo>> IJobAdminStore.GetQueuesAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var queues = AllQueues().ToDictionary(q => q.QueueName, StringComparer.Ordinal);
            var live = LiveWorkers(now);
            IReadOnlyList<QueueInfo> result = [.. ListedQueueNames(queues, live).Select(name => QueueInfoOf(name, queues, live, now))];
            return Task.FromResult(result);
        }
    }

    /// <summary>
    /// The queues the admin list names (ordinal order): those with jobs, the paused ones and those live workers serve, as
    /// the PostgreSQL store lists them (the default queue too: without jobs, workers or a pause it is not listed).
    /// </summary>
    private SortedSet<string> ListedQueueNames(Dictionary<string, InMemoryJobDriver> queues, List<WorkerInfo> live)
    {
        var names = new SortedSet<string>(queues.Keys.Where(n => queues[n]._jobs.Count > 0), StringComparer.Ordinal);
        names.UnionWith(_pausedQueues.Keys);
        foreach (var w in live)
        {
            names.UnionWith(w.Queues);
        }

        return names;
    }

    /// <summary>What the admin list says of queue <paramref name="name"/> (under the lock).</summary>
    private QueueInfo QueueInfoOf(string name, Dictionary<string, InMemoryJobDriver> queues, List<WorkerInfo> live, DateTimeOffset now)
    {
        var own = queues.GetValueOrDefault(name);
        DateTimeOffset? oldest = null;
        if (own is not null)
        {
            foreach (var e in own._waiting)
            {
                if (e.RunAt <= now && (oldest is null || e.RunAt < oldest))
                {
                    oldest = e.RunAt;
                }
            }
        }

        _pausedQueues.TryGetValue(name, out var pause);
        return new QueueInfo
        {
            Name = name,
            IsPaused = pause is not null,
            PausedReason = pause?.Reason,
            PausedAt = pause?.At,
            Counts = own is null ? new JobCounts() : JobCounts.From(own._jobs.Values.GroupBy(e => e.State).Select(g => new KeyValuePair<JobState, long>(g.Key, g.LongCount()))),
            OldestWaitingAge = oldest is { } o ? now - o : null,
            WorkerCount = live.Count(w => w.Queues.Contains(name, StringComparer.Ordinal)),
        };
    }

    /// <inheritdoc />
    Task<bool> IJobAdminStore.SetQueuePausedAsync(string queue, bool paused, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (paused)
            {
                var was = _pausedQueues.ContainsKey(queue);
                _pausedQueues[queue] = new QueuePause(reason, was ? _pausedQueues[queue].At : _time.GetUtcNow());
                RaiseQueuePaused(queue);
                return Task.FromResult(!was);
            }

            var removed = _pausedQueues.Remove(queue);
            if (removed)
            {
                Signal();
            }

            return Task.FromResult(removed);
        }
    }

    /// <summary>The root queue and every queue view (<see cref="ForQueue"/>): the admin store operates all of them. Under the lock.</summary>
    private IEnumerable<InMemoryJobDriver> AllQueues()
    {
        var root = _root ?? this;
        yield return root;
        foreach (var view in root._views.Values)
        {
            yield return view;
        }
    }

    private List<JobSummary> Matching(JobQuery query, JsonElement? contains)
    {
        query = WithStoredTimeBounds(query);
        var result = new List<JobSummary>();
        foreach (var e in _jobs.Values)
        {
            var summary = Summary(e);
            var payload = query.PayloadText is not null || contains is not null ? Encoding.UTF8.GetString(e.Payload) : "";
            if (JobQueryMatcher.Matches(query, summary, payload, contains))
            {
                result.Add(summary);
            }
        }

        return result;
    }

    /// <summary>
    /// <paramref name="query"/> with its time bounds as PostgreSQL receives them (<see cref="Stored"/>: to the microsecond),
    /// so a bound given to the tick reads the jobs it reads there: jobs pushed for an instant are found by a RunAfter of that
    /// instant, whose stored run time is that instant cut to the microsecond.
    /// </summary>
    private static JobQuery WithStoredTimeBounds(JobQuery query) => query with
    {
        QueuedAfter = query.QueuedAfter is { } qa ? Stored(qa) : null,
        QueuedBefore = query.QueuedBefore is { } qb ? Stored(qb) : null,
        RunAfter = query.RunAfter is { } ra ? Stored(ra) : null,
        RunBefore = query.RunBefore is { } rb ? Stored(rb) : null,
    };

    private List<WorkerInfo> LiveWorkers(DateTimeOffset now) => _workers.Values.Where(w => w.ExpiresAt > now).Select(w => w.Info).ToList();

    private JobSummary Summary(Entry e) => new()
    {
        Id = e.Id,
        Name = e.Name,
        QueueName = QueueName,
        State = e.State,
        Priority = e.Priority,
        Attempts = e.Attempts,
        MaxAttempts = e.MaxAttempts,
        QueuedAt = e.CreatedAt,
        RunAt = e.RunAt,
        StartedAt = e.StartedAt,
        FinishedAt = e.FinishedAt,
        LastError = e.LastError,
        WorkerId = e.WorkerId,
        DeleteRequested = e.State == JobState.Processing && e.DeleteRequested,
    };

    private sealed record QueuePause(string? Reason, DateTimeOffset At);

    private sealed record WorkerPresence(WorkerInfo Info, DateTimeOffset ExpiresAt);

    private sealed record PublishedEntry(ScheduleRegistration Registration, bool Paused, DateTimeOffset SeenAt)
    {
        /// <summary>How long a publication holds when its publisher did not say (as the PostgreSQL store assumes).</summary>
        private static readonly TimeSpan DefaultTimeToLive = TimeSpan.FromMinutes(10);

        /// <summary>Not republished within its time to live: no running scheduler publishes it any more.</summary>
        public bool IsStale(DateTimeOffset now)
            => SeenAt + (Registration.TimeToLive > TimeSpan.Zero ? Registration.TimeToLive : DefaultTimeToLive) < now;
    }

    private sealed class IdOrder : IComparer<JobId>
    {
        public static readonly IdOrder Instance = new();

        public int Compare(JobId x, JobId y) => x.Value.CompareTo(y.Value);
    }
}
