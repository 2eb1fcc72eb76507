using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// The operating surface of a job store: list, inspect and act on jobs in bulk, pause queues, see and trigger schedules, see
/// live workers, read the audit log. Registered as a singleton by <c>AddJobs</c> (resolve it from DI); for PostgreSQL without a
/// host, <c>PostgresJobAdmin.Create(dataSource, options)</c> builds one. Thread-safe.
/// </summary>
/// <remarks>
/// It sees every queue of the store (not only the queue of this process's <see cref="JobQueue"/>). Every mutating call takes an
/// optional <see cref="AuditInfo"/>, is logged, and is appended to the audit log with the number of rows it changed (also when
/// its token is cancelled after the change committed: the call then returns normally). Bulk
/// actions work in batches of <see cref="BatchSize"/> jobs, each its own transaction: a failure part-way leaves earlier batches
/// applied (the exception says how many rows were changed). A batch the store cancels for running past its time limit for
/// one statement (PostgreSQL's <c>statement_timeout</c>) changed nothing and is done again in smaller transactions, down to
/// one job each (<see cref="JobBatchTimeoutException"/> when even one job's change runs past it). Each bulk action has an overload taking an
/// <see cref="IProgress{T}"/> of <see cref="JobBulkProgress"/>, reported after each batch committed (on the calling flow,
/// before the next batch starts: a slow <see cref="IProgress{T}.Report"/> slows the action).
/// </remarks>
public sealed partial class JobAdmin
{
    /// <summary>
    /// Jobs per batch (one statement and transaction) of a bulk action; fewer per statement while the store's time limit
    /// cancels batches of this size (<see cref="JobBatchTimeoutException"/>).
    /// </summary>
    public const int BatchSize = 1000;

    private readonly ILogger _logger;

    /// <summary>Creates the admin API on <paramref name="store"/>.</summary>
    public JobAdmin(IJobAdminStore store, ILogger<JobAdmin>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
        _logger = GuardedLogger.For(logger);
    }

    /// <summary>The store this admin API works on.</summary>
    public IJobAdminStore Store { get; }

    // ------------------------------------------------------------------ jobs

    /// <summary>One page of jobs matching <paramref name="query"/>. Pass <see cref="JobPage.NextCursor"/> back for the next page.</summary>
    /// <exception cref="ArgumentException">The query is invalid (limit out of range, cursor of another order, invalid JSON).</exception>
    public Task<JobPage> ListJobsAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        return Store.ListJobsAsync(query, cancellationToken);
    }

    /// <summary>Everything stored about a job (payload, headers, errors, timestamps, worker, lease), or <see langword="null"/> when it is not stored.</summary>
    public Task<JobDetails?> GetJobAsync(JobId id, CancellationToken cancellationToken = default) => Store.GetJobAsync(id, cancellationToken);

    /// <summary>
    /// Failed, cancelled and retrying jobs become pending and due now. Their next run is the next attempt (and gets at least one
    /// attempt even when the limit was reached), or attempt 1 with <paramref name="fromFirstAttempt"/>. Other states are skipped.
    /// </summary>
    /// <returns>How many jobs were changed.</returns>
    public Task<int> RetryAsync(JobSelection selection, bool fromFirstAttempt = false, AuditInfo? audit = null, CancellationToken cancellationToken = default)
        => RetryAsync(selection, fromFirstAttempt, audit, null, cancellationToken);

    /// <summary>
    /// <see cref="RetryAsync(JobSelection, bool, AuditInfo?, CancellationToken)"/>, reporting to <paramref name="progress"/>
    /// after each batch committed (a tool's progress over many batches).
    /// </summary>
    /// <returns>How many jobs were changed.</returns>
    public Task<int> RetryAsync(JobSelection selection, bool fromFirstAttempt, AuditInfo? audit, IProgress<JobBulkProgress>? progress, CancellationToken cancellationToken = default)
        => BulkAsync(selection, new JobAdminAction(JobAdminActionKind.Retry, FromFirstAttempt: fromFirstAttempt), fromFirstAttempt ? "retry-from-first" : "retry", audit,
            progress, cancellationToken);

    /// <summary>
    /// Cancels jobs: waiting ones (pending, delayed, retrying, paused) become cancelled and are kept for inspection; running ones
    /// are asked to stop (their handler's token is cancelled). Finished jobs are skipped.
    /// </summary>
    /// <returns>How many jobs were changed (running jobs asked to stop included).</returns>
    public Task<int> CancelAsync(JobSelection selection, AuditInfo? audit = null, CancellationToken cancellationToken = default)
        => CancelAsync(selection, audit, null, cancellationToken);

    /// <summary>
    /// <see cref="CancelAsync(JobSelection, AuditInfo?, CancellationToken)"/>, reporting to <paramref name="progress"/> after
    /// each batch committed.
    /// </summary>
    /// <returns>How many jobs were changed (running jobs asked to stop included).</returns>
    public Task<int> CancelAsync(JobSelection selection, AuditInfo? audit, IProgress<JobBulkProgress>? progress, CancellationToken cancellationToken = default)
        => BulkAsync(selection, new JobAdminAction(JobAdminActionKind.Cancel), "cancel", audit, progress, cancellationToken);

    /// <summary>
    /// Deletes jobs in any state. A waiting or finished job is removed at once. A running job is cancelled and removed when
    /// it ends: its handler's token is cancelled at once (as <see cref="CancelAsync(JobSelection, AuditInfo?, CancellationToken)"/> does), but the job stays processing,
    /// shown with <see cref="JobSummary.DeleteRequested"/>, and keeps its place in its concurrency key's and queue's limits
    /// until its handler returned (or its worker's lease expired); then it is removed, whatever its outcome.
    /// </summary>
    /// <returns>How many jobs were deleted or, when running, marked for deletion (a running job already marked is not counted).</returns>
    public Task<int> DeleteAsync(JobSelection selection, AuditInfo? audit = null, CancellationToken cancellationToken = default)
        => DeleteAsync(selection, audit, null, cancellationToken);

    /// <summary>
    /// <see cref="DeleteAsync(JobSelection, AuditInfo?, CancellationToken)"/>, reporting to <paramref name="progress"/> after
    /// each batch committed.
    /// </summary>
    /// <returns>How many jobs were deleted or, when running, marked for deletion.</returns>
    public Task<int> DeleteAsync(JobSelection selection, AuditInfo? audit, IProgress<JobBulkProgress>? progress, CancellationToken cancellationToken = default)
        => BulkAsync(selection, new JobAdminAction(JobAdminActionKind.Delete), "delete", audit, progress, cancellationToken);

    /// <summary>Sets the priority of waiting jobs (pending, retrying, paused). Other states are skipped.</summary>
    /// <returns>How many jobs were changed.</returns>
    public Task<int> SetPriorityAsync(JobSelection selection, JobPriority priority, AuditInfo? audit = null, CancellationToken cancellationToken = default)
        => SetPriorityAsync(selection, priority, audit, null, cancellationToken);

    /// <summary>
    /// <see cref="SetPriorityAsync(JobSelection, JobPriority, AuditInfo?, CancellationToken)"/>, reporting to
    /// <paramref name="progress"/> after each batch committed.
    /// </summary>
    /// <returns>How many jobs were changed.</returns>
    public Task<int> SetPriorityAsync(JobSelection selection, JobPriority priority, AuditInfo? audit, IProgress<JobBulkProgress>? progress,
        CancellationToken cancellationToken = default)
    {
        CheckPriority(priority, nameof(priority));
        return BulkAsync(selection, new JobAdminAction(JobAdminActionKind.SetPriority, Priority: priority), "set-priority:" + priority, audit, progress, cancellationToken);
    }

    /// <summary>Makes delayed pending or retrying jobs due now. Jobs already due and other states are skipped.</summary>
    /// <returns>How many jobs were changed.</returns>
    public Task<int> RunNowAsync(JobSelection selection, AuditInfo? audit = null, CancellationToken cancellationToken = default)
        => RunNowAsync(selection, audit, null, cancellationToken);

    /// <summary>
    /// <see cref="RunNowAsync(JobSelection, AuditInfo?, CancellationToken)"/>, reporting to <paramref name="progress"/> after
    /// each batch committed.
    /// </summary>
    /// <returns>How many jobs were changed.</returns>
    public Task<int> RunNowAsync(JobSelection selection, AuditInfo? audit, IProgress<JobBulkProgress>? progress, CancellationToken cancellationToken = default)
        => BulkAsync(selection, new JobAdminAction(JobAdminActionKind.RunNow), "run-now", audit, progress, cancellationToken);

    /// <summary>
    /// A dry run of a bulk action: how many jobs of <paramref name="selection"/> <paramref name="action"/> would change now,
    /// and the first of them. Changes nothing and writes no audit entry. It walks the selection exactly as the action does
    /// (the same query, batches and narrowing to the query's states) and asks the store which jobs of each batch the
    /// action's own conditions would change, so a preview and the action taken right after it agree (unless jobs change
    /// in between: a worker finishing one, a push matching the filter).
    /// </summary>
    /// <param name="selection">The jobs, as the action would get them.</param>
    /// <param name="action">The action: <c>new JobAdminAction(JobAdminActionKind.Retry)</c> for <see cref="RetryAsync(JobSelection, bool, AuditInfo?, CancellationToken)"/>,
    /// <see cref="JobAdminActionKind.Cancel"/>, <see cref="JobAdminActionKind.Delete"/>, <see cref="JobAdminActionKind.RunNow"/>,
    /// or <see cref="JobAdminActionKind.SetPriority"/> with its <see cref="JobAdminAction.Priority"/>.</param>
    /// <param name="sampleSize">How many job ids to return in <see cref="JobActionPreview.Sample"/> (0 to <see cref="BatchSize"/>).</param>
    /// <param name="cancellationToken">Cancels the preview.</param>
    /// <exception cref="NotSupportedException">The store cannot preview (<see cref="IJobAdminStore.PreviewAsync"/>).</exception>
    public async Task<JobActionPreview> PreviewAsync(JobSelection selection, JobAdminAction action, int sampleSize = 10, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selection);
        ArgumentOutOfRangeException.ThrowIfNegative(sampleSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sampleSize, BatchSize);
        if (!Enum.IsDefined(action.Kind))
        {
            throw new ArgumentOutOfRangeException(nameof(action), action.Kind, "Unknown admin action.");
        }

        if (action.Kind == JobAdminActionKind.SetPriority)
        {
            CheckPriority(action.Priority, nameof(action));
        }

        int selected = 0, wouldChange = 0;
        var sample = new List<JobId>(sampleSize);
        await WalkAsync(selection, action, async (narrowed, batch) =>
        {
            selected += batch.Count;
            var changing = await Store.PreviewAsync(narrowed, batch, cancellationToken).ConfigureAwait(false);
            wouldChange += changing.Count;
            sample.AddRange(changing.Take(sampleSize - sample.Count));
        }, cancellationToken).ConfigureAwait(false);
        return new JobActionPreview(selected, wouldChange, sample);
    }

    // ------------------------------------------------------------------ queues

    /// <summary>Every queue of the store: pause state, counts per state, oldest waiting job's age, live workers.</summary>
    public Task<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken = default) => Store.GetQueuesAsync(cancellationToken);

    /// <summary>
    /// One page of the store's queues, by name (ordinal): at most <paramref name="limit"/> queues after
    /// <paramref name="cursor"/> (from the first without one), and <see cref="QueuePage.Total"/>, how many there are. Pass
    /// <see cref="QueuePage.NextCursor"/> back for the next page. The drivers of this SDK read one page and a count from
    /// the store (the details of a page's queues only: its counts, oldest waiting jobs, pauses and workers); another store
    /// is read whole (<see cref="GetQueuesAsync(CancellationToken)"/>) and the page cut from it, with the same cursors.
    /// </summary>
    /// <remarks>
    /// On PostgreSQL the names are compared byte by byte (<c>COLLATE "C"</c>, code point order), which is the ordinal order
    /// but for names that differ first in a character above U+FFFF against one from U+E000 to U+FFFF (ordinal order puts the
    /// former first, as UTF-16 does).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is not 1 to <see cref="JobQuery.MaxLimit"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="cursor"/> is not a cursor a page of queues gave.</exception>
    public async Task<QueuePage> GetQueuesAsync(int limit, string? cursor, CancellationToken cancellationToken = default)
    {
        CursorPager<QueueInfo>.CheckLimit(limit);
        var after = QueuePage.Pager.After(cursor);
        if (Store is IPagedAdminCatalogs paged)
        {
            var (page, total) = await paged.GetQueuePageAsync(after, limit + 1, cancellationToken).ConfigureAwait(false);
            return QueuePage.Slice(page, limit, total);
        }

        var queues = await Store.GetQueuesAsync(cancellationToken).ConfigureAwait(false);
        return QueuePage.Page(queues, after, limit);
    }

    /// <summary>
    /// Stops claims of <paramref name="queue"/> on every worker (within one claim cycle); running jobs finish; pushes keep being
    /// accepted. Persisted until <see cref="ResumeQueueAsync"/>.
    /// </summary>
    /// <returns>Whether the queue was running before (false: it was already paused; the reason is updated).</returns>
    /// <exception cref="ArgumentException">The name is empty, starts or ends with whitespace, contains NUL or an unpaired
    /// surrogate or is longer than 1,000 bytes of UTF-8 (no queue can have it), or the reason or <paramref name="audit"/> contains NUL or an unpaired surrogate,
    /// or the reason is longer than <see cref="AuditInfo.MaxReasonLength"/> characters (or <paramref name="audit"/>'s texts longer than theirs).</exception>
    public async Task<bool> PauseQueueAsync(string queue, string? reason = null, AuditInfo? audit = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        JobTextLimits.CheckQueueName(queue, nameof(queue));
        JobTextLimits.CheckOperatorText(reason, AuditInfo.MaxReasonLength, "The pause reason", nameof(reason));
        CheckAudit(audit);

        var changed = await Store.SetQueuePausedAsync(queue, true, reason ?? audit?.Reason, cancellationToken).ConfigureAwait(false);
        await AuditAsync("queue.pause", queue, audit is null ? new AuditInfo(null, reason) : audit with { Reason = audit.Reason ?? reason },
            changed ? 1 : 0).ConfigureAwait(false);
        return changed;
    }

    /// <summary>Lets workers claim <paramref name="queue"/>'s jobs again.</summary>
    /// <returns>Whether the queue was paused before.</returns>
    public async Task<bool> ResumeQueueAsync(string queue, AuditInfo? audit = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        JobTextLimits.CheckQueueName(queue, nameof(queue));
        CheckAudit(audit);
        var changed = await Store.SetQueuePausedAsync(queue, false, null, cancellationToken).ConfigureAwait(false);
        await AuditAsync("queue.resume", queue, audit, changed ? 1 : 0).ConfigureAwait(false);
        return changed;
    }

    // ------------------------------------------------------------------ workers, audit

    /// <summary>Live workers (a worker that died disappears once its last report's lease expired).</summary>
    public Task<IReadOnlyList<WorkerInfo>> GetWorkersAsync(CancellationToken cancellationToken = default) => Store.GetWorkersAsync(cancellationToken);

    /// <summary>The longest span <see cref="GetThroughputAsync"/> answers for (stores keep a few hours).</summary>
    public static readonly TimeSpan MaxThroughputSpan = TimeSpan.FromHours(3);

    /// <summary>
    /// Completed and failed jobs per minute and queue in [<paramref name="from"/>, <paramref name="to"/>), oldest first (minutes
    /// without finished jobs are absent). Counted by the worker processes and reported with their presence heartbeat (every
    /// third of the lease duration), so it holds whatever retention deletes; the current minute lags by up to one heartbeat.
    /// </summary>
    public Task<IReadOnlyList<JobThroughputMinute>> GetThroughputAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        if (to <= from || to - from > MaxThroughputSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(to), to - from,
                $"GetThroughputAsync needs from < to and a span of at most {MaxThroughputSpan.TotalHours:0} hours.");
        }

        return Store.GetThroughputAsync(from, to, cancellationToken);
    }

    /// <summary>
    /// The store's clock now: the clock jobs' queued, run and finished times are written on (the database's on PostgreSQL).
    /// Use it, not this machine's clock, for a bound such as <see cref="JobQuery.QueuedBefore"/> "before now": a machine
    /// whose clock is behind the database's would otherwise leave out the latest jobs.
    /// </summary>
    public Task<DateTimeOffset> GetStoreTimeAsync(CancellationToken cancellationToken = default) => Store.GetStoreTimeAsync(cancellationToken);

    /// <summary>
    /// Why the store's server refuses writes now (a standby in recovery, <c>default_transaction_read_only</c> on), or
    /// <see langword="null"/> when it accepts them (<see cref="IJobAdminStore.GetReadOnlyReasonAsync"/>). A process that only
    /// reads gets no refusal to tell it that it reads a read-only server, whose figures may be stale: ask this.
    /// </summary>
    public Task<string?> GetReadOnlyReasonAsync(CancellationToken cancellationToken = default) => Store.GetReadOnlyReasonAsync(cancellationToken);

    /// <summary>The latest audit entries, newest first.</summary>
    public Task<IReadOnlyList<AuditEntry>> GetAuditLogAsync(int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
        return Store.GetAuditLogAsync(limit, cancellationToken);
    }

    // ------------------------------------------------------------------ helpers

    private async Task<int> BulkAsync(JobSelection selection, JobAdminAction action, string name, AuditInfo? audit, IProgress<JobBulkProgress>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selection);
        CheckAudit(audit);
        int total = 0, batches = 0, walked = 0;
        var size = new BulkStatementSize();
        var locked = new BulkLockedJobs();
        try
        {
            await WalkAsync(selection, action, async (narrowed, batch) =>
            {
                await ApplyInStatementsAsync(narrowed, batch, size, changed => total += changed, locked, cancellationToken).ConfigureAwait(false);
                batches++;
                walked += batch.Count;
                progress?.Report(new JobBulkProgress(batches, walked, total));
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (total > 0)
        {
            AdminLog.BulkActionFailed(_logger, ex, name, selection.ToString(), total);
            await AuditAsync(name + " (failed part-way)", selection.ToString(), audit, total).ConfigureAwait(false);
            throw new BulkActionFailedException($"The bulk action '{name}' failed after changing {total} job(s): {ex.Message}", total, ex);
        }

        if (locked.Count > 0)
        {
            // Every job it could was changed; the ones other transactions held are listed, with who held them.
            AdminLog.BulkActionLeftLocked(_logger, name, selection.ToString(), total, locked.Count, locked.Holders);
            await AuditAsync($"{name} ({locked.Count} locked job(s) left)", selection.ToString(), audit, total).ConfigureAwait(false);
            throw locked.Exception(name, total);
        }

        await AuditAsync(name, selection.ToString(), audit, total).ConfigureAwait(false);
        return total;
    }

    /// <summary>
    /// Hands <paramref name="batch"/> the selection in batches of at most <see cref="BatchSize"/> ids, one after the other:
    /// an id list in its order, a query's matching jobs id ascending (found batch by batch, each after the last id of the
    /// one before, so jobs an earlier batch changed or deleted never shift the next) among the jobs queued when the walk
    /// started, with the action narrowed to the query's states. The one walk of a bulk action and of its preview, so the two see the same jobs.
    /// </summary>
    private async Task WalkAsync(JobSelection selection, JobAdminAction action, Func<JobAdminAction, IReadOnlyList<JobId>, Task> batch,
        CancellationToken cancellationToken)
    {
        if (selection.JobIds is { } ids)
        {
            for (var start = 0; start < ids.Count; start += BatchSize)
            {
                await batch(action, ids.Skip(start).Take(BatchSize).ToArray()).ConfigureAwait(false);
            }

            return;
        }

        var query = await QueuedByNowAsync(selection.Query!, cancellationToken).ConfigureAwait(false);
        if (query.States is { Count: > 0 } states)
        {
            action = action with { OnlyStates = states };
        }

        JobId? after = null;
        while (true)
        {
            var found = await Store.FindJobIdsAsync(query, after, BatchSize, cancellationToken).ConfigureAwait(false);
            if (found.Count == 0)
            {
                break;
            }

            await batch(action, found).ConfigureAwait(false);
            if (found.Count < BatchSize)
            {
                break;
            }

            after = found[^1];
        }
    }

    /// <summary>
    /// <paramref name="query"/> bounded to the jobs queued by now, on the store's clock (on which queued times are written):
    /// "every job matching" is every job that matched when the action started. Jobs pushed while its batches run match the
    /// filters too, and an action that took them in would chase them, never ending on a queue pushed to faster than it
    /// works. At or before now (one tick after it): a store whose clock stands still (a fake time in tests) queues jobs at it.
    /// </summary>
    private async Task<JobQuery> QueuedByNowAsync(JobQuery query, CancellationToken cancellationToken)
    {
        var now = await Store.GetStoreTimeAsync(cancellationToken).ConfigureAwait(false);
        var bound = now.AddTicks(1);
        return query.QueuedBefore is { } before && before <= bound ? query : query with { QueuedBefore = bound };
    }

    /// <summary>
    /// Refuses an audit entry no store can hold, or one over its caps (<see cref="AuditInfo.MaxActorLength"/>,
    /// <see cref="AuditInfo.MaxReasonLength"/>), before the action runs: written after it, it would be lost (the action done,
    /// its record not).
    /// </summary>
    private static void CheckAudit(AuditInfo? audit) => JobTextLimits.CheckAudit(audit, nameof(audit));

    private static void CheckPriority(JobPriority priority, string paramName)
    {
        if (!Enum.IsDefined(priority))
        {
            throw new ArgumentOutOfRangeException(paramName, priority, "Use a JobPriority value (Lowest to Highest).");
        }
    }

    /// <summary>
    /// Records an action that was carried out. Not cancellable: the change committed, so its record is written even when the
    /// caller gave up meanwhile (an aborted dashboard request, Ctrl+C); the store's command timeout bounds it.
    /// </summary>
    private async Task AuditAsync(string action, string target, AuditInfo? audit, int rows)
    {
        AdminLog.Action(_logger, action, target, rows, audit?.Actor ?? "(unknown)", audit?.Reason ?? "");
        var entry = new AuditEntry
        {
            At = DateTimeOffset.UtcNow,
            Actor = audit?.Actor,
            Action = action,
            // A query's text may be long and hold emoji: cut on a character boundary, as no store can hold half a pair.
            Target = JobErrorText.Sanitize(target, 1000) ?? "",
            Reason = audit?.Reason,
            RowsChanged = rows,
        };
        try
        {
            await Store.AppendAuditAsync(entry, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The action itself succeeded: report it, but do not turn it into a failure.
            AdminLog.AuditFailed(_logger, ex, action, target);
        }
    }
}
