using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

// The in-memory admin store's catalogs: schedule entries, worker presence, audit log.
public sealed partial class InMemoryJobDriver
{
    /// <inheritdoc />
    Task<IReadOnlyList<ScheduleInfo>> IJobAdminStore.GetSchedulesAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            IReadOnlyList<ScheduleInfo> list = _scheduleEntries.Values
                .OrderBy(e => e.Registration.QueueName, StringComparer.Ordinal)
                .ThenBy(e => e.Registration.EntryKey, StringComparer.Ordinal)
                .Select(e => ScheduleInfoOf(e, now))
                .ToArray();
            return Task.FromResult(list);
        }
    }

    /// <summary>What the admin list says of entry <paramref name="e"/> (under the lock).</summary>
    private ScheduleInfo ScheduleInfoOf(PublishedEntry e, DateTimeOffset now) => new()
    {
        EntryKey = e.Registration.EntryKey,
        QueueName = e.Registration.QueueName,
        JobName = e.Registration.JobName,
        Schedule = e.Registration.Description,
        LastFireAt = FiresOf(e.Registration.QueueName)?._schedules.TryGetValue(e.Registration.EntryKey, out var r) == true ? r.Last : null,
        NextFireAt = e.Registration.NextFireAt,
        IsPaused = e.Paused,
        LastSeenAt = e.SeenAt,
        IsStale = e.IsStale(now),
    };

    /// <inheritdoc />
    Task IJobAdminStore.PublishSchedulesAsync(IReadOnlyList<ScheduleRegistration> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            foreach (var entry in entries)
            {
                var paused = _scheduleEntries.TryGetValue((entry.QueueName, entry.EntryKey), out var existing) && existing.Paused;
                // A publisher that does not say how long its publication holds keeps the previous one's time to live.
                var registration = entry.TimeToLive <= TimeSpan.Zero && existing is not null ? entry with { TimeToLive = existing.Registration.TimeToLive } : entry;
                _scheduleEntries[(entry.QueueName, entry.EntryKey)] = new PublishedEntry(registration, paused, now);
            }

            // Entries no scheduler published for a week (and not paused: a pause must outlive its publishers' absence) go,
            // with their fire records, as in the PostgreSQL store.
            foreach (var (key, forgotten) in _scheduleEntries.Where(e => !e.Value.Paused && e.Value.SeenAt < now - ForgetScheduleEntriesAfter).ToArray())
            {
                _scheduleEntries.Remove(key);
                FiresOf(key.Queue)?._schedules.Remove(key.Key);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The queue (root or view) whose store keeps the fire records of entries of <paramref name="queue"/>; null when none was made. Under the lock.</summary>
    private InMemoryJobDriver? FiresOf(string queue)
    {
        var root = _root ?? this;
        return string.Equals(queue, root.QueueName, StringComparison.Ordinal) ? root : root._views.GetValueOrDefault(queue);
    }

    /// <inheritdoc />
    async Task<int> IJobAdminStore.TriggerScheduleAsync(string entryKey, JobId id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entryKey);
        cancellationToken.ThrowIfCancellationRequested();
        string[] queues;
        lock (_gate)
        {
            queues = [.. _scheduleEntries.Keys.Where(k => string.Equals(k.Key, entryKey, StringComparison.Ordinal)).Select(k => k.Queue).Order(StringComparer.Ordinal)];
        }

        var pushed = 0;
        for (var i = 0; i < queues.Length; i++)
        {
            pushed += await TriggerInQueueAsync(queues[i], entryKey, i == 0 ? id : JobId.New(), cancellationToken).ConfigureAwait(false);
        }

        return pushed;
    }

    /// <inheritdoc />
    Task<int> IJobAdminStore.TriggerScheduleAsync(string queue, string entryKey, JobId id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(entryKey);
        cancellationToken.ThrowIfCancellationRequested();
        return TriggerInQueueAsync(queue, entryKey, id, cancellationToken);
    }

    /// <summary>Pushes the job of entry <paramref name="entryKey"/> of <paramref name="queue"/>, while it is published and not paused.</summary>
    private Task<int> TriggerInQueueAsync(string queue, string entryKey, JobId id, CancellationToken cancellationToken)
    {
        ScheduleRegistration? registration;
        lock (_gate)
        {
            // A paused entry is not triggered, nor one no running scheduler publishes (as the PostgreSQL store's AdminSql.Triggerable).
            registration = IsTriggerableLocked(queue, entryKey) ? _scheduleEntries[(queue, entryKey)].Registration : null;
        }

        if (registration is null)
        {
            return Task.FromResult(0);
        }

        var record = new JobPushRecord
        {
            Id = id,
            Name = registration.JobName,
            Payload = registration.Payload,
            Priority = registration.Priority,
            MaxAttempts = registration.MaxAttempts,
            Headers = new Dictionary<string, string>(StringComparer.Ordinal) { [JobHeaders.ScheduleEntry] = entryKey },
            // In its key's line, as its scheduled fires and pushes are.
            ConcurrencyKey = registration.ConcurrencyKey,
            ConcurrencyLimit = registration.ConcurrencyKey is null ? null : registration.ConcurrencyLimit,
        };
        // Into the entry's queue (its job type's), as its scheduled fires go, not this store's default queue.
        var target = (InMemoryJobDriver)ForQueue(registration.QueueName);
        if (registration.UniqueKey is { } key)
        {
            record = record with { UniqueKey = key, UniqueFor = registration.UniqueFor };
            CheckPriority(record);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return target.RunScheduleAsync(record, (queue, entryKey), cancellationToken);
    }

    /// <summary>Whether entry <paramref name="entryKey"/> of <paramref name="queue"/> is published, not stale and not paused. Under the lock.</summary>
    private bool IsTriggerableLocked(string queue, string entryKey)
        => _scheduleEntries.TryGetValue((queue, entryKey), out var e) && !e.Paused && !e.IsStale(_time.GetUtcNow());

    /// <summary>
    /// An operator's run of a schedule entry, <paramref name="record"/>: as a unique push (and a scheduled fire), under the
    /// lock, only while no job of the queue holds its unique key; after an open ambient transaction that pushed its unique or
    /// concurrency key ended, as on PostgreSQL (an operator's run joins no ambient transaction: only pushes do). Returns the
    /// jobs stored (0 or 1): none when <paramref name="entry"/> was paused (or went stale) meanwhile.
    /// </summary>
    private async Task<int> RunScheduleAsync(JobPushRecord record, (string Queue, string Key) entry, CancellationToken cancellationToken)
    {
        while (true)
        {
            Blocker blocker;
            lock (_gate)
            {
                if (!IsTriggerableLocked(entry.Queue, entry.Key))
                {
                    return 0;
                }

                if (UncommittedBlocker([record], null, keys: true) is not { } found)
                {
                    if (record.UniqueKey is { } key)
                    {
                        return PushUniqueLocked(record, key, null).Inserted ? 1 : 0;
                    }

                    StoreLocked([record], null);
                    return 1;
                }

                blocker = found;
            }

            await WaitAsync(null, blocker, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    Task<int> IJobAdminStore.SetSchedulePausedAsync(string entryKey, bool paused, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entryKey);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var queues = _scheduleEntries.Keys.Where(k => string.Equals(k.Key, entryKey, StringComparison.Ordinal)).Select(k => k.Queue).ToArray();
            return Task.FromResult(queues.Sum(queue => SetSchedulePausedLocked(queue, entryKey, paused)));
        }
    }

    /// <inheritdoc />
    Task<int> IJobAdminStore.SetSchedulePausedAsync(string queue, string entryKey, bool paused, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(entryKey);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(SetSchedulePausedLocked(queue, entryKey, paused));
        }
    }

    /// <summary>Pauses or resumes entry <paramref name="entryKey"/> of <paramref name="queue"/>; returns 1 when it changed. Under the lock.</summary>
    private int SetSchedulePausedLocked(string queue, string entryKey, bool paused)
    {
        if (!_scheduleEntries.TryGetValue((queue, entryKey), out var e) || e.Paused == paused)
        {
            return 0;
        }

        _scheduleEntries[(queue, entryKey)] = e with { Paused = paused };
        if (!paused)
        {
            // The fires that fell while it was paused and no scheduler ran are not caught up later (AdminSql.SetSchedulePaused).
            FiresOf(queue)?.RecordResumeLocked(entryKey, _time.GetUtcNow());
        }

        return 1;
    }

    /// <inheritdoc />
    Task<IReadOnlyList<WorkerInfo>> IJobAdminStore.GetWorkersAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            IReadOnlyList<WorkerInfo> list = _workers.Values
                .Where(w => w.ExpiresAt > now)
                .OrderBy(w => w.Info.WorkerId, StringComparer.Ordinal)
                .Select(w => w.Info)
                .ToArray();
            return Task.FromResult(list);
        }
    }

    /// <inheritdoc />
    Task IJobAdminStore.ReportWorkerAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            foreach (var expired in _workers.Where(w => w.Value.ExpiresAt <= now).Select(w => w.Key).ToArray())
            {
                _workers.Remove(expired);
            }

            _workers[heartbeat.WorkerId] = new WorkerPresence(new WorkerInfo
            {
                WorkerId = heartbeat.WorkerId,
                Host = heartbeat.Host,
                ProcessId = heartbeat.ProcessId,
                StartedAt = heartbeat.StartedAt,
                LastHeartbeatAt = now,
                Queues = heartbeat.Queues.ToArray(),
                JobNames = heartbeat.JobNames.ToArray(),
                RunningCount = heartbeat.RunningCount,
                Concurrency = heartbeat.Concurrency,
            }, now + heartbeat.TimeToLive);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    Task IJobAdminStore.RemoveWorkerAsync(string workerId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _workers.Remove(workerId);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    Task IJobAdminStore.AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            _audit.AddFirst(entry with { Id = ++_auditSequence, At = now });
            if (_audit.Count > MaxAuditEntries)
            {
                _audit.RemoveLast();
            }

            PruneAuditLocked(now);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    Task<DateTimeOffset> IJobAdminStore.GetStoreTimeAsync(CancellationToken cancellationToken)
        => cancellationToken.IsCancellationRequested ? Task.FromCanceled<DateTimeOffset>(cancellationToken) : Task.FromResult(_time.GetUtcNow());

    /// <inheritdoc />
    Task<IReadOnlyList<AuditEntry>> IJobAdminStore.GetAuditLogAsync(int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            PruneAuditLocked(_time.GetUtcNow());
            return Task.FromResult<IReadOnlyList<AuditEntry>>(_audit.Take(limit).ToArray());
        }
    }

    /// <summary>Drops the entries older than <see cref="RetentionPolicy.AuditLog"/> (oldest last). Under <c>_gate</c>.</summary>
    private void PruneAuditLocked(DateTimeOffset now)
    {
        var keep = _options.Retention.AuditLog;
        while (keep != Timeout.InfiniteTimeSpan && _audit.Last is { } oldest && oldest.Value.At < now - keep)
        {
            _audit.RemoveLast();
        }
    }
}
