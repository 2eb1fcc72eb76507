using Jobs.Sdk.Drivers;
using Npgsql;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Cleanup and retention of a queue in bounded batches (see <see cref="CleanupSql"/>): each statement acts on at most
/// <see cref="CleanupSql.BatchSize"/> rows and commits on its own, so a million finished rows never make one long
/// transaction (which would hold back vacuum and slow every concurrent claim) or one burst of WAL.
/// </summary>
/// <remarks>
/// A pass is therefore not atomic: cancelled or failed midway, the batches done so far stay done; running the same
/// cleanup again finishes it. States are handled in a fixed order. A settled or processing state is handled until a batch
/// picks nothing: a batch whose rows a concurrent transaction (another cleanup, a user's <c>DELETE</c>) changed first
/// changes nothing, yet older rows may lie beyond it. That loop ends: a row a batch picked but did not change was changed
/// by a transaction that committed, so the next batch's snapshot no longer holds that row version, and rows a rerun put
/// back are not picked again. A runnable state (pending, retrying) is handled in one walk of the queue's runnable index,
/// a page per batch (<see cref="WalkRunnableAsync"/>): that index holds both states at every age, so a batch that looked
/// for its own rows from the index's start read every other runnable row of the queue, at every batch.
/// <para>
/// The batches are prepared and planned without sequential scans (<see cref="SqlRun.NoSeqScan"/>): the plan a session
/// built while the table was small picked and changed the rows by sequential scans, on every batch once it had grown.
/// </para>
/// </remarks>
internal sealed class PostgresCleanup(PostgresQueueContext context)
{
    private static readonly JobState[] Order =
        [JobState.Pending, JobState.Processing, JobState.Retrying, JobState.Failed, JobState.Completed, JobState.Cancelled, JobState.Paused];

    private readonly string _removeRunnableSql = context.Sql(CleanupSql.Remove(runnable: true));
    private readonly string _removeSettledSql = context.Sql(CleanupSql.Remove(runnable: false));
    private readonly string _rerunRunnableSql = context.Sql(CleanupSql.Rerun(runnable: true));
    private readonly string _rerunSettledSql = context.Sql(CleanupSql.Rerun(runnable: false));
    private readonly string _removeProcessingSql = context.Sql(CleanupSql.RemoveProcessing);
    private readonly string _countRunnableSql = context.Sql(CleanupSql.CountRemovable(runnable: true));
    private readonly string _countSettledSql = context.Sql(CleanupSql.CountRemovable(runnable: false));
    private readonly string _countProcessingSql = context.Sql(CleanupSql.CountRemovableProcessing);

    /// <summary>
    /// Runs the pass; returns how many jobs its batches removed (the sum of their row counts, whatever else changed
    /// meanwhile): the rows they deleted, and the running jobs they marked to be deleted when their attempt ends (see
    /// <see cref="CleanupSql.RemoveProcessing"/>), each counted by the pass that marked it; a later pass that finds it
    /// marked leaves it and does not count it again (one that finds its lease ended deletes it and counts it).
    /// </summary>
    public async Task<long> CleanupAsync(CleanupOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset? passStart = null;
        var rerun = false;
        long removed = 0;
        foreach (var state in Order)
        {
            var action = options.For(state);
            var runnable = state is JobState.Pending or JobState.Retrying;
            if (action.Kind == CleanupActionKind.Remove && state == JobState.Processing)
            {
                removed += await RemoveProcessingAsync(action.MaxAge, cancellationToken).ConfigureAwait(false);
            }
            else if (action.Kind == CleanupActionKind.Remove && runnable)
            {
                var age = action.MaxAge?.TotalMilliseconds;
                removed += await WalkRunnableAsync(_removeRunnableSql, state, () => Double(age), putBack: false, cancellationToken).ConfigureAwait(false);
            }
            else if (action.Kind == CleanupActionKind.Remove)
            {
                var age = action.MaxAge?.TotalMilliseconds;
                DateTimeOffset? after = null;
                (long Picked, long Changed, DateTimeOffset? Last) batch;
                do
                {
                    var from = after;
                    batch = await BatchAsync(_removeSettledSql, state, Double(age), from, cancellationToken).ConfigureAwait(false);
                    removed += batch.Changed;
                    after = batch.Last ?? after;
                }
                while (batch.Picked > 0);
            }
            else if (action.Kind == CleanupActionKind.Rerun)
            {
                // Rows put back get updated_at = now(), never before the pass's start: no batch of the pass picks them again.
                passStart ??= await context.Commands.ScalarAsync(CleanupSql.DatabaseNow, [], SqlRun.None, cancellationToken).ConfigureAwait(false) is DateTime now
                    ? new DateTimeOffset(DateTime.SpecifyKind(now, DateTimeKind.Utc))
                    : throw new InvalidOperationException("The database did not return its clock.");
                var start = passStart.Value;
                if (runnable)
                {
                    rerun |= await WalkRunnableAsync(_rerunRunnableSql, state, () => Timestamp(start), putBack: true, cancellationToken).ConfigureAwait(false) > 0;
                    continue;
                }

                DateTimeOffset? after = null;
                (long Picked, long Changed, DateTimeOffset? Last) batch;
                do
                {
                    var from = after;
                    // A finished unique job given back its key may lose it to a push the batch could not see: run again (UniqueKeyRace).
                    batch = await UniqueKeyRace.RunAsync(() => BatchAsync(_rerunSettledSql, state, Timestamp(start), from, cancellationToken)).ConfigureAwait(false);
                    rerun |= batch.Changed > 0;
                    after = batch.Last ?? after;
                }
                while (batch.Picked > 0);
            }
        }

        if (rerun)
        {
            if (context.Channel is not null)
            {
                await context.Commands.ExecuteAsync(JobSql.Notify, [Text(context.Channel)], SqlRun.None, cancellationToken).ConfigureAwait(false);
            }

            context.Notifier.JobsDue();
        }

        return removed;
    }

    /// <summary>
    /// A dry run of <see cref="CleanupAsync"/>: how many jobs its removals would delete now (a running job a live worker
    /// holds, which a removal only marks, counted as <see cref="CleanupAsync"/> counts it), by the conditions its batches
    /// pick rows with (<see cref="CleanupSql.CountRemovable"/>). Changes nothing. Reruns delete nothing and are not
    /// counted (they put rows back only after every state the pass removes earlier, and as pending, which a removal of
    /// pending jobs, the first of the pass, does not see again). Counts in bounded batches, each its own transaction, as
    /// the removals delete: a dry run over a million rows holds no snapshot longer than one batch.
    /// </summary>
    public async Task<long> CountRemovableAsync(CleanupOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        long removable = 0;
        foreach (var state in Order)
        {
            var action = options.For(state);
            if (action.Kind != CleanupActionKind.Remove)
            {
                continue;
            }

            var age = action.MaxAge?.TotalMilliseconds;
            removable += state is JobState.Pending or JobState.Retrying
                ? await CountRunnableAsync(state, age, cancellationToken).ConfigureAwait(false)
                : await CountByUpdateAsync(state, age, cancellationToken).ConfigureAwait(false);
        }

        return removable;
    }

    /// <summary>Counts the removable rows of a settled or processing state, batch by batch in <c>updated_at</c> order.</summary>
    private async Task<long> CountByUpdateAsync(JobState state, double? age, CancellationToken cancellationToken)
    {
        long counted = 0;
        DateTimeOffset? after = null;
        (long Picked, long Counted, DateTimeOffset? Last) batch;
        do
        {
            NpgsqlParameter[] parameters = state == JobState.Processing
                ? [Text(context.Queue), Double(age), Timestamp(after), Integer(CleanupSql.BatchSize)]
                : [Text(context.Queue), Smallint((short)state), Double(age), Timestamp(after), Integer(CleanupSql.BatchSize)];
            batch = await context.Commands.QueryAsync(state == JobState.Processing ? _countProcessingSql : _countSettledSql, parameters, SqlRun.Prepare | SqlRun.Maintenance | SqlRun.NoSeqScan,
                static async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false)
                    ? (reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? (DateTimeOffset?)null : new DateTimeOffset(reader.GetFieldValue<DateTime>(2)))
                    : throw new InvalidOperationException("A cleanup count returned no row."), cancellationToken).ConfigureAwait(false);
            counted += batch.Counted;
            after = batch.Last;
        }
        while (batch.Picked == CleanupSql.BatchSize);
        return counted;
    }

    /// <summary>Counts the removable rows of a runnable state, priority by priority, batch by batch in claim order.</summary>
    private async Task<long> CountRunnableAsync(JobState state, double? age, CancellationToken cancellationToken)
    {
        long counted = 0;
        short? priority = short.MaxValue; // above every priority: the first batch reads nothing and names the highest
        (DateTimeOffset? RunAt, Guid? Id) after = (null, null);
        while (priority is { } p)
        {
            var batch = await context.Commands.QueryAsync(_countRunnableSql,
                [Text(context.Queue), Smallint((short)state), Double(age), Smallint(p), Timestamp(after.RunAt), Uuid(after.Id), Integer(CleanupSql.BatchSize)],
                SqlRun.Prepare | SqlRun.Maintenance | SqlRun.NoSeqScan, ReadPageAsync, cancellationToken).ConfigureAwait(false);
            counted += batch.Taken;
            if (batch.Read == CleanupSql.BatchSize)
            {
                after = (batch.RunAt, batch.Id);
            }
            else
            {
                (priority, after) = (batch.Next, (null, null));
            }
        }

        return counted;
    }

    /// <summary>
    /// Removes or puts back (<paramref name="sql"/>: <see cref="CleanupSql.Remove"/> or <see cref="CleanupSql.Rerun"/> of a
    /// runnable state) the queue's jobs in <paramref name="state"/> in one walk of its runnable index, priority by priority,
    /// a page of <see cref="CleanupSql.BatchSize"/> rows of either runnable state per batch, each batch from where the
    /// previous one ended; <paramref name="third"/> gives each batch its $3 (the age, or the pass's start). Returns how many
    /// rows the batches changed. Rows that enter the index behind the walk (pushed meanwhile) are left to the next pass;
    /// rows a rerun puts back are due now, and a page that reads them again does not take them (their <c>updated_at</c>).
    /// </summary>
    private async Task<long> WalkRunnableAsync(string sql, JobState state, Func<NpgsqlParameter> third, bool putBack, CancellationToken cancellationToken)
    {
        long changed = 0;
        short? priority = short.MaxValue; // above every priority: the first batch reads nothing and names the highest
        (DateTimeOffset? RunAt, Guid? Id) after = (null, null);
        while (priority is { } p)
        {
            var from = after;
            Task<(long Read, long Taken, DateTimeOffset? RunAt, Guid? Id, short? Next)> Page() => context.Commands.QueryAsync(sql,
                [Text(context.Queue), Smallint((short)state), third(), Integer(CleanupSql.BatchSize), Smallint(p), Timestamp(from.RunAt), Uuid(from.Id)],
                SqlRun.Prepare | SqlRun.Maintenance | SqlRun.NoSeqScan, ReadPageAsync, cancellationToken);

            // A finished unique job given back its key may lose it to a push the batch could not see: run again (UniqueKeyRace).
            var batch = putBack ? await UniqueKeyRace.RunAsync(Page).ConfigureAwait(false) : await Page().ConfigureAwait(false);
            changed += batch.Taken;
            if (batch.Read == CleanupSql.BatchSize)
            {
                after = (batch.RunAt, batch.Id);
            }
            else
            {
                (priority, after) = (batch.Next, (null, null));
            }
        }

        return changed;
    }

    /// <summary>
    /// Reads the row of one page of a runnable walk: the rows it read, the rows it took (counted, deleted or put back),
    /// where it ended and the next lower priority (null: the walk's end).
    /// </summary>
    private static async Task<(long Read, long Taken, DateTimeOffset? RunAt, Guid? Id, short? Next)> ReadPageAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
        => await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? (reader.GetInt64(0), reader.GetInt64(1),
                reader.IsDBNull(2) ? null : new DateTimeOffset(reader.GetFieldValue<DateTime>(2)),
                reader.IsDBNull(3) ? null : reader.GetGuid(3), reader.IsDBNull(4) ? null : reader.GetInt16(4))
            : throw new InvalidOperationException("A cleanup batch returned no row.");

    /// <summary>
    /// Removes the queue's processing jobs (older than <paramref name="maxAge"/> by last change when given) in batches
    /// until one picks nothing: a dead worker's at once, a live worker's when its attempt ends (its handler told now).
    /// Returns how many it deleted or marked.
    /// </summary>
    private async Task<long> RemoveProcessingAsync(TimeSpan? maxAge, CancellationToken cancellationToken)
    {
        long removed = 0;
        (long Picked, long Changed, Guid[]? Ids, Guid[]? Tokens) batch;
        do
        {
            batch = await context.Commands.QueryAsync(_removeProcessingSql,
                [Text(context.Queue), Double(maxAge?.TotalMilliseconds), Integer(CleanupSql.BatchSize), Text(context.Channel)], SqlRun.Prepare | SqlRun.Maintenance | SqlRun.NoSeqScan,
                static async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false)
                    ? (reader.GetInt64(0), reader.GetInt64(1) + reader.GetInt64(2),
                        reader.IsDBNull(4) ? null : reader.GetFieldValue<Guid[]>(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<Guid[]>(5))
                    : throw new InvalidOperationException("A cleanup batch returned no row."), cancellationToken).ConfigureAwait(false);
            removed += batch.Changed;
            if (batch is { Ids: { } ids, Tokens: { } tokens })
            {
                // No NOTIFY in poll-only mode: tell this process's workers directly; others learn it at lease renewal.
                for (var i = 0; i < ids.Length; i++)
                {
                    context.Notifier.CancelRequested(new JobLease(new JobId(ids[i]), tokens[i]));
                }
            }
        }
        while (batch.Picked > 0);
        return removed;
    }

    /// <summary>
    /// Runs one batch of a settled state from <c>updated_at</c> <paramref name="after"/> on (null: the first); returns how
    /// many rows it picked, how many of them it changed (deleted or put back) and the last one's <c>updated_at</c> (the next
    /// batch's <paramref name="after"/>; null when it picked nothing).
    /// </summary>
    private Task<(long Picked, long Changed, DateTimeOffset? Last)> BatchAsync(string sql, JobState state, NpgsqlParameter third, DateTimeOffset? after, CancellationToken cancellationToken)
        => context.Commands.QueryAsync(sql, [Text(context.Queue), Smallint((short)state), third, Integer(CleanupSql.BatchSize), Timestamp(after)],
            SqlRun.Prepare | SqlRun.Maintenance | SqlRun.NoSeqScan,
            static async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false)
                ? (reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? (DateTimeOffset?)null : new DateTimeOffset(reader.GetFieldValue<DateTime>(2)))
                : throw new InvalidOperationException("A cleanup batch returned no row."), cancellationToken);
}
