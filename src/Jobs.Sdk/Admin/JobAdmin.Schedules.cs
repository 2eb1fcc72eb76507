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
    /// Pushes the entry's job now (outside its schedule; the next regular fire is unaffected). A unique job type
    /// (<c>[Job(Unique = true)]</c>) keeps its promise here too: the job is pushed only when no job of its queue holds its
    /// unique key (waiting, running, or finished less than its UniqueFor ago), and the pushed job holds the key, as a unique
    /// push does.
    /// </summary>
    /// <returns>
    /// The jobs pushed: 0 when no scheduler published an entry with that key, or when the entry's job is unique and its key
    /// is held (see <see cref="GetSchedulesAsync(CancellationToken)"/> to tell the two apart). When the connection breaks after the trigger was
    /// sent, the PostgreSQL store finds out whether the job was stored and answers as if nothing had happened; it throws a
    /// <see cref="JobsException"/> naming the job only when the database cannot tell (look the job up before triggering again).
    /// </returns>
    public async Task<int> TriggerScheduleAsync(string entryKey, AuditInfo? audit = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        JobTextLimits.CheckStorable(entryKey, "A schedule entry key", nameof(entryKey));
        CheckAudit(audit);
        var pushed = await Store.TriggerScheduleAsync(entryKey, JobId.New(), cancellationToken).ConfigureAwait(false);
        await AuditAsync("schedule.trigger", entryKey, audit, pushed).ConfigureAwait(false);
        return pushed;
    }

    /// <summary>Pauses an entry: its fire times pass (and are recorded) without pushing a job, until resumed.</summary>
    /// <returns>The entries changed (0 when none has that key or it was already paused).</returns>
    public async Task<int> PauseScheduleAsync(string entryKey, AuditInfo? audit = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        JobTextLimits.CheckStorable(entryKey, "A schedule entry key", nameof(entryKey));
        CheckAudit(audit);
        var changed = await Store.SetSchedulePausedAsync(entryKey, true, cancellationToken).ConfigureAwait(false);
        await AuditAsync("schedule.pause", entryKey, audit, changed).ConfigureAwait(false);
        return changed;
    }

    /// <summary>
    /// Resumes a paused entry from its next fire time (fires skipped while paused are not pushed). The resume is recorded with
    /// the entry's fires: a scheduler that starts after it goes on from the resume, so the fire times that fell while the
    /// entry was paused and no scheduler ran are not pushed as its catch-up either (<see cref="ScheduleAccuracy"/> applies to
    /// the fire times missed after the resume).
    /// </summary>
    /// <returns>The entries changed.</returns>
    public async Task<int> ResumeScheduleAsync(string entryKey, AuditInfo? audit = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        JobTextLimits.CheckStorable(entryKey, "A schedule entry key", nameof(entryKey));
        CheckAudit(audit);
        var changed = await Store.SetSchedulePausedAsync(entryKey, false, cancellationToken).ConfigureAwait(false);
        await AuditAsync("schedule.resume", entryKey, audit, changed).ConfigureAwait(false);
        return changed;
    }
}
