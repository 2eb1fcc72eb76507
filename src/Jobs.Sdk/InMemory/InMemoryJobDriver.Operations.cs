using System.Data.Common;
using System.Text;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

/// <content>Operator actions and reads: cancel, pause, resume, get, counts, cleanup.</content>
public sealed partial class InMemoryJobDriver
{
    /// <inheritdoc />
    public Task<bool> CancelAsync(JobId id, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<bool>(cancellationToken);
        }

        var now = _time.GetUtcNow();
        JobLease? raise = null;
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
                        entry.LastModified = now; // as PostgreSQL's updated_at: a cleanup by age and the admin lists read it
                        raise = new JobLease(id, entry.LeaseToken ?? Guid.Empty);
                        result = true;
                        break;
                }
            }
        }

        if (raise is { } lease)
        {
            RaiseRunningJobCancelled(RunningJobCancelled, lease, ObserverLog);
        }

        return Task.FromResult(result);
    }

    /// <inheritdoc />
    public Task<bool> PauseAsync(JobId id, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<bool>(cancellationToken);
        }

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
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<bool>(cancellationToken);
        }

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
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<JobInfo?>(cancellationToken);
        }

        lock (_gate)
        {
            return Task.FromResult(_jobs.TryGetValue(id, out var e) ? ToInfo(e) : null);
        }
    }

    /// <inheritdoc />
    public Task<JobCounts> GetCountsAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<JobCounts>(cancellationToken);
        }

        lock (_gate)
        {
            return Task.FromResult(JobCounts.From(_jobs.Values.GroupBy(e => e.State).Select(g => new KeyValuePair<JobState, long>(g.Key, g.LongCount()))));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<JobNameCounts>> GetCountsByNameAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IReadOnlyList<JobNameCounts>>(cancellationToken);
        }

        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<JobNameCounts>>(_jobs.Values.GroupBy(e => e.Name, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new JobNameCounts(g.Key, JobCounts.From(g.GroupBy(e => e.State).Select(s => new KeyValuePair<JobState, long>(s.Key, s.LongCount())))))
                .ToArray());
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WaitingJobName>> GetWaitingNamesAsync(TimeSpan dueFor, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IReadOnlyList<WaitingJobName>>(cancellationToken);
        }

        var before = _time.GetUtcNow() - dueFor;
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<WaitingJobName>>(_waiting.Where(e => e.RunAt < before) // due for longer than dueFor, as PostgreSQL
                .GroupBy(e => e.Name, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new WaitingJobName(g.Key, g.LongCount(), g.Min(e => e.RunAt)))
                .ToArray());
        }
    }

    /// <inheritdoc />
    public Task CleanupAsync(CleanupOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        var now = _time.GetUtcNow();
        List<JobLease>? cancelRunning = null;
        lock (_gate)
        {
            var rerun = false;
            foreach (var entry in _jobs.Values.ToArray())
            {
                var action = options.For(entry.State);
                var oldEnough = action.MaxAge is not { } maxAge || entry.LastModified < now - maxAge;
                switch (action.Kind)
                {
                    case CleanupActionKind.Remove when entry.State == JobState.Processing && entry.LeaseExpiresAt is { } live && live > now:
                        // A live worker runs it: removed as an operator's delete removes it (RemoveIfDeleted when its
                        // attempt ends), keeping its slots in its key's and queue's limits until its handler really
                        // ended. Its handler is told at once. One already being removed is left as it is.
                        if (oldEnough && !entry.DeleteRequested)
                        {
                            entry.CancelRequested = true;
                            entry.DeleteRequested = true;
                            entry.LastModified = now;
                            (cancelRunning ??= []).Add(new JobLease(entry.Id, entry.LeaseToken ?? Guid.Empty));
                        }

                        break;
                    case CleanupActionKind.Remove when oldEnough && (entry.FinishedAt is null || entry.UniqueKey is null || !HoldsKey(entry, now)):
                        // A finished job whose unique key still holds (UniqueFor) is kept, as retention keeps it.
                        _waiting.Remove(entry);
                        _jobs.Remove(entry.Id);
                        break;
                    case CleanupActionKind.Rerun when (entry.State != JobState.Processing || entry.LeaseExpiresAt is not { } lease || lease <= now)
                        && _jobs.ContainsKey(entry.Id) && TryRetakeUniqueKey(entry, now):
                        _waiting.Remove(entry);
                        entry.Attempts = 0;
                        entry.LastError = null;
                        entry.CancelRequested = false;
                        entry.DeleteRequested = false;
                        entry.FinishedAt = null;
                        entry.StartedAt = null;
                        entry.WorkerId = null;
                        entry.LeaseExpiresAt = null;
                        entry.LeaseToken = null;
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

        foreach (var lease in cancelRunning ?? [])
        {
            RaiseRunningJobCancelled(RunningJobCancelled, lease, ObserverLog);
        }

        return Task.CompletedTask;
    }

    private JobInfo ToInfo(Entry e) => new()
    {
        Id = e.Id,
        Name = e.Name,
        QueueName = QueueName,
        State = e.State,
        Priority = e.Priority,
        Attempts = e.Attempts,
        MaxAttempts = e.MaxAttempts,
        Payload = Encoding.UTF8.GetString(e.Payload),
        QueuedAt = e.CreatedAt,
        RunAt = e.RunAt,
        StartedAt = e.StartedAt,
        FinishedAt = e.FinishedAt,
        LastError = e.LastError,
        WorkerId = e.WorkerId,
        Errors = e.Errors.ToArray(),
    };
}
