using System.Data.Common;
using System.Text;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

/// <content>The schedule store (<see cref="IJobScheduleStore"/>): last fire times and exactly-once fire records.</content>
public sealed partial class InMemoryJobDriver
{
    /// <summary>How far below an entry's latest fire time individual fire records are kept (older fires count as recorded).</summary>
    private static readonly TimeSpan ScheduleRecordWindow = TimeSpan.FromDays(1);

    private readonly Dictionary<string, ScheduleRecords> _schedules = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task<DateTimeOffset?> GetLastFireTimeAsync(string entryKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_schedules.TryGetValue(entryKey, out var records) ? records.ResumeFrom : null);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Fire records are kept for a day below the entry's latest fire; a fire older than that counts as recorded, so memory
    /// stays bounded for frequent schedules.
    /// </remarks>
    public async Task<bool> TryPushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
        => (await PushScheduledAsync(entryKey, fireTime, job, cancellationToken).ConfigureAwait(false)).Outcome == ScheduledFireOutcome.Pushed;

    /// <inheritdoc />
    /// <remarks>
    /// The fire record, the unique key check and the push happen under one lock, so a unique push or another fire cannot
    /// take the key in between. A fire of a unique or concurrency key an open ambient transaction pushed waits for it first,
    /// as on PostgreSQL, then finds the key held (it committed) or takes it (it did not), and goes behind its jobs in the
    /// key's line. Fire records are kept for a day below the entry's latest fire (older fires count as recorded).
    /// </remarks>
    public Task<ScheduledFireResult> PushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        ArgumentNullException.ThrowIfNull(job);
        CheckPriority(job);
        cancellationToken.ThrowIfCancellationRequested();
        return PushScheduledCoreAsync(entryKey, Stored(fireTime), job, cancellationToken); // recorded and compared as the PostgreSQL store records it
    }

    private async Task<ScheduledFireResult> PushScheduledCoreAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
    {
        while (true)
        {
            Blocker blocker;
            lock (_gate)
            {
                if (!_schedules.TryGetValue(entryKey, out var records))
                {
                    records = new ScheduleRecords();
                    _schedules.Add(entryKey, records);
                }

                if (records.Fires.Contains(fireTime) || (records.ResumeFrom is { } latest && fireTime < latest - ScheduleRecordWindow))
                {
                    return new ScheduledFireResult(ScheduledFireOutcome.AlreadyRecorded, null);
                }

                var paused = IsSchedulePaused(entryKey);
                if (!paused && UncommittedBlocker([job], null, keys: true) is { } found)
                {
                    blocker = found; // an open transaction pushed the key: wait for its end, outside the lock
                }
                else
                {
                    return FireLocked(records, fireTime, job, paused);
                }
            }

            await WaitAsync(null, blocker, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Pushes <paramref name="job"/> for a fire no open transaction holds a key of, and records the fire (under the lock).</summary>
    private ScheduledFireResult FireLocked(ScheduleRecords records, DateTimeOffset fireTime, JobPushRecord job, bool paused)
    {
        // Push first: if it throws, the fire stays unrecorded and a retry can push it. A paused entry records the fire
        // only; so does a fire whose unique key a job of this queue holds (the same check as a unique push).
        ScheduledFireResult result;
        if (paused)
        {
            result = new ScheduledFireResult(ScheduledFireOutcome.Paused, null);
        }
        else if (job.UniqueKey is { } key)
        {
            var pushed = PushUniqueLocked(job, key, null);
            result = new ScheduledFireResult(pushed.Inserted ? ScheduledFireOutcome.Pushed : ScheduledFireOutcome.KeyHeld, pushed.Id);
        }
        else
        {
            StoreLocked([job], null);
            result = new ScheduledFireResult(ScheduledFireOutcome.Pushed, job.Id);
        }

        records.Fires.Add(fireTime);
        if (records.Last is not { } last || fireTime > last)
        {
            records.Last = fireTime;
            records.Fires.RemoveWhere(f => f < fireTime - ScheduleRecordWindow);
        }

        return result;
    }

    /// <summary>The entry's resume: from now, a scheduler that starts later goes on as from a fire (as the PostgreSQL store records it).</summary>
    private void RecordResumeLocked(string entryKey, DateTimeOffset now)
    {
        if (!_schedules.TryGetValue(entryKey, out var records))
        {
            records = new ScheduleRecords();
            _schedules.Add(entryKey, records);
        }

        records.ResumedAt = Stored(now);
    }

    private sealed class ScheduleRecords
    {
        public HashSet<DateTimeOffset> Fires { get; } = [];

        /// <summary>The latest fire (the admin lists show it).</summary>
        public DateTimeOffset? Last { get; set; }

        /// <summary>When an operator last resumed the entry.</summary>
        public DateTimeOffset? ResumedAt { get; set; }

        /// <summary>Where a scheduler that starts goes on from: the latest fire, or the resume after it.</summary>
        public DateTimeOffset? ResumeFrom => ResumedAt is { } resumed && (Last is not { } last || resumed > last) ? resumed : Last;
    }
}
