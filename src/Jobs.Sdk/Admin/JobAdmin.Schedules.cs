using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

// The schedule entries: see, page, trigger, pause and resume them.
public sealed partial class JobAdmin
{
    /// <summary>The schedule entries published by running schedulers: schedule, last and next fire, paused.</summary>
    public Task<IReadOnlyList<ScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken = default) => Store.GetSchedulesAsync(cancellationToken);

    /// <summary>
    /// One page of the schedule entries, by queue then entry key (ordinal): at most <paramref name="limit"/> entries after
    /// <paramref name="cursor"/> (from the first without one). Pass <see cref="SchedulePage.NextCursor"/> back for the next page.
    /// The drivers of this SDK read one page from the store; another store is read whole
    /// (<see cref="GetSchedulesAsync(CancellationToken)"/>) and the page cut from it, with the same cursors.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is not 1 to <see cref="JobQuery.MaxLimit"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="cursor"/> is not a cursor a page gave.</exception>
    public async Task<SchedulePage> GetSchedulesAsync(int limit, string? cursor, CancellationToken cancellationToken = default)
    {
        CursorPager<ScheduleInfo>.CheckLimit(limit);
        var after = SchedulePage.Pager.After(cursor);
        if (Store is IPagedAdminCatalogs paged)
        {
            var page = await paged.GetSchedulePageAsync(SchedulePage.Entry(after), limit + 1, cancellationToken).ConfigureAwait(false);
            return SchedulePage.Slice(page, limit);
        }

        var entries = await Store.GetSchedulesAsync(cancellationToken).ConfigureAwait(false);
        return SchedulePage.Page(entries, after, limit);
    }

    /// <summary>
    /// Pushes the job of entry <paramref name="entryKey"/> now (outside its schedule; the next regular fire is unaffected): the
    /// entry of the one queue that publishes the key (<see cref="TriggerScheduleAsync(string?, string, AuditInfo?, CancellationToken)"/>
    /// names the queue). A unique job type (<c>[Job(Unique = true)]</c>) keeps its promise here too: the job is pushed only when
    /// no job of its queue holds its unique key (waiting, running, or finished less than its UniqueFor ago), and the pushed job
    /// holds the key, as a unique push does.
    /// </summary>
    /// <returns>
    /// The jobs pushed: 1, or 0 when the entry's job is unique and its key is held (or the entry was paused or removed after
    /// it was looked up). When the connection breaks after the trigger was sent, the PostgreSQL store finds out whether the
    /// job was stored and answers as if nothing had happened; it throws a <see cref="JobsException"/> naming the job only when
    /// the database cannot tell (look the job up before triggering again).
    /// </returns>
    /// <exception cref="ArgumentException">The key is published in several queues: name the queue.</exception>
    /// <exception cref="ScheduleEntryNotFoundException">No entry has the key, or no running scheduler publishes it any more (a deploy removed it).</exception>
    /// <exception cref="ScheduleEntryPausedException">The entry is paused: resume it first.</exception>
    public Task<int> TriggerScheduleAsync(string entryKey, AuditInfo? audit = null, CancellationToken cancellationToken = default)
        => TriggerScheduleAsync(null, entryKey, audit, cancellationToken);

    /// <summary>
    /// Pushes the job of the entry <paramref name="entryKey"/> of queue <paramref name="queue"/> now, as
    /// <see cref="TriggerScheduleAsync(string, AuditInfo?, CancellationToken)"/> does; the entries of other queues with the same key
    /// (another application's, another queue's scheduled cleanup) are left alone. <paramref name="queue"/> null: the one queue
    /// that publishes the key.
    /// </summary>
    /// <returns>The jobs pushed (1, or 0: see <see cref="TriggerScheduleAsync(string, AuditInfo?, CancellationToken)"/>).</returns>
    /// <exception cref="ArgumentException">No queue was named and the key is published in several queues.</exception>
    /// <exception cref="ScheduleEntryNotFoundException">The queue has no entry of the key, or no running scheduler publishes it any more.</exception>
    /// <exception cref="ScheduleEntryPausedException">The entry is paused: resume it first.</exception>
    public async Task<int> TriggerScheduleAsync(string? queue, string entryKey, AuditInfo? audit, CancellationToken cancellationToken = default)
    {
        CheckEntryArguments(queue, entryKey);
        CheckAudit(audit);
        var entries = await Store.GetSchedulesAsync(cancellationToken).ConfigureAwait(false);
        var entry = ScheduleEntryLookup.Find(entries, queue, entryKey, "trigger");
        ScheduleEntryLookup.CheckTriggerable(entries, entry);
        var pushed = await Store.TriggerScheduleAsync(entry.QueueName, entryKey, JobId.New(), cancellationToken).ConfigureAwait(false);
        await AuditAsync("schedule.trigger", EntryTarget(entry), audit, pushed).ConfigureAwait(false);
        if (pushed == 0)
        {
            // Nothing pushed: the unique key is held, or the entry was paused or removed since it was looked up: say which.
            var now = await Store.GetSchedulesAsync(cancellationToken).ConfigureAwait(false);
            ScheduleEntryLookup.CheckTriggerable(now, ScheduleEntryLookup.Find(now, entry.QueueName, entryKey, "trigger"));
        }

        return pushed;
    }

    /// <summary>
    /// Pauses entry <paramref name="entryKey"/> of the one queue that publishes the key
    /// (<see cref="PauseScheduleAsync(string?, string, AuditInfo?, CancellationToken)"/> names the queue): its fire times pass (and
    /// are recorded) without pushing a job, and it is not triggered, until resumed.
    /// </summary>
    /// <returns>The entries changed (0 when it was already paused).</returns>
    /// <exception cref="ArgumentException">The key is published in several queues: name the queue.</exception>
    /// <exception cref="ScheduleEntryNotFoundException">No entry has the key.</exception>
    public Task<int> PauseScheduleAsync(string entryKey, AuditInfo? audit = null, CancellationToken cancellationToken = default)
        => SetSchedulePausedAsync(null, entryKey, true, audit, cancellationToken);

    /// <summary>
    /// Pauses the entry <paramref name="entryKey"/> of queue <paramref name="queue"/> (null: the one queue that publishes the key),
    /// as <see cref="PauseScheduleAsync(string, AuditInfo?, CancellationToken)"/> does; entries of other queues with the same key are
    /// left alone.
    /// </summary>
    /// <returns>The entries changed (0 when it was already paused).</returns>
    /// <exception cref="ArgumentException">No queue was named and the key is published in several queues.</exception>
    /// <exception cref="ScheduleEntryNotFoundException">The queue has no entry of the key.</exception>
    public Task<int> PauseScheduleAsync(string? queue, string entryKey, AuditInfo? audit, CancellationToken cancellationToken = default)
        => SetSchedulePausedAsync(queue, entryKey, true, audit, cancellationToken);

    /// <summary>
    /// Resumes the paused entry <paramref name="entryKey"/> of the one queue that publishes the key
    /// (<see cref="ResumeScheduleAsync(string?, string, AuditInfo?, CancellationToken)"/> names the queue) from its next fire time
    /// (fires skipped while paused are not pushed). The resume is recorded with the entry's fires: a scheduler that starts after
    /// it goes on from the resume, so the fire times that fell while the entry was paused and no scheduler ran are not pushed as
    /// its catch-up either (<see cref="ScheduleAccuracy"/> applies to the fire times missed after the resume).
    /// </summary>
    /// <returns>The entries changed (0 when it was not paused).</returns>
    /// <exception cref="ArgumentException">The key is published in several queues: name the queue.</exception>
    /// <exception cref="ScheduleEntryNotFoundException">No entry has the key.</exception>
    public Task<int> ResumeScheduleAsync(string entryKey, AuditInfo? audit = null, CancellationToken cancellationToken = default)
        => SetSchedulePausedAsync(null, entryKey, false, audit, cancellationToken);

    /// <summary>
    /// Resumes the entry <paramref name="entryKey"/> of queue <paramref name="queue"/> (null: the one queue that publishes the key),
    /// as <see cref="ResumeScheduleAsync(string, AuditInfo?, CancellationToken)"/> does; entries of other queues with the same key are
    /// left alone.
    /// </summary>
    /// <returns>The entries changed (0 when it was not paused).</returns>
    /// <exception cref="ArgumentException">No queue was named and the key is published in several queues.</exception>
    /// <exception cref="ScheduleEntryNotFoundException">The queue has no entry of the key.</exception>
    public Task<int> ResumeScheduleAsync(string? queue, string entryKey, AuditInfo? audit, CancellationToken cancellationToken = default)
        => SetSchedulePausedAsync(queue, entryKey, false, audit, cancellationToken);

    private async Task<int> SetSchedulePausedAsync(string? queue, string entryKey, bool paused, AuditInfo? audit, CancellationToken cancellationToken)
    {
        CheckEntryArguments(queue, entryKey);
        CheckAudit(audit);
        var action = paused ? "pause" : "resume";
        var entry = ScheduleEntryLookup.Find(await Store.GetSchedulesAsync(cancellationToken).ConfigureAwait(false), queue, entryKey, action);
        var changed = await Store.SetSchedulePausedAsync(entry.QueueName, entryKey, paused, cancellationToken).ConfigureAwait(false);
        await AuditAsync("schedule." + action, EntryTarget(entry), audit, changed).ConfigureAwait(false);
        return changed;
    }

    private static void CheckEntryArguments(string? queue, string entryKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        JobTextLimits.CheckStorable(entryKey, "A schedule entry key", nameof(entryKey));
        if (queue is not null)
        {
            JobTextLimits.CheckQueueName(queue, nameof(queue));
        }
    }

    /// <summary>An entry as the audit log names it: its key and queue (a key may be published in several queues).</summary>
    private static string EntryTarget(ScheduleInfo entry) => $"{entry.EntryKey} (queue {entry.QueueName})";
}
