using System.Globalization;
using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <content>
/// A bulk action's batch over jobs whose rows another transaction holds locked: a user's open transaction that updated a
/// job row, or a <c>SELECT … FOR UPDATE</c> left open. The action's statement waited for the lock until the role's
/// <c>statement_timeout</c> cancelled it, and each smaller statement JobAdmin tried then waited the timeout again, down to
/// the locked job alone, about ten more timeouts before an error that blamed a slow statement. Each action statement now
/// waits for a lock at most half the statement_timeout, and at most <see cref="MaxLockWaitMilliseconds"/>
/// (<see cref="LockWait"/>: a transaction-local <c>lock_timeout</c>, none added when the session has no statement_timeout).
/// Past it (55P03) the statement was rolled back, and the batch is applied to the rows no other transaction holds (locked
/// with <c>SKIP LOCKED</c>, in one transaction); the rows it skipped are tried once more with the lock wait (a worker's claim
/// holds a row for an instant), and those still locked are left: <see cref="JobsLockedException"/> (logged, event 2046)
/// with the jobs changed, the jobs left and the sessions that hold them, read from <c>pg_locks</c> and
/// <c>pg_stat_activity</c> through each row's locker (<c>xmax</c>).
/// </content>
public sealed partial class PostgresJobAdminStore
{
    /// <summary>The longest an action statement waits for a lock (milliseconds): worker statements hold a job row for milliseconds.</summary>
    private const int MaxLockWaitMilliseconds = 5_000;

    /// <summary>
    /// The transaction-local <c>lock_timeout</c> of an action statement: half the session's statement_timeout, at most
    /// <see cref="MaxLockWaitMilliseconds"/> and at most the session's own lock_timeout; unchanged without a statement_timeout.
    /// </summary>
    private static readonly string LockWait = $"""
        SELECT set_config('lock_timeout', CASE WHEN t = 0 THEN current_setting('lock_timeout')
            ELSE least(greatest(t / 2, 1), {MaxLockWaitMilliseconds}, CASE WHEN l = 0 THEN {MaxLockWaitMilliseconds} ELSE l END)::text || 'ms' END, true)
        FROM (SELECT max(setting::bigint) FILTER (WHERE name = 'statement_timeout') AS t, max(setting::bigint) FILTER (WHERE name = 'lock_timeout') AS l
              FROM pg_settings WHERE name IN ('statement_timeout', 'lock_timeout')) AS s
        """;

    /// <summary>$1 ids: locks those whose rows no other transaction holds, and returns them.</summary>
    private const string LockFreeRows = "SELECT id FROM {s}.jobs WHERE id = ANY($1) ORDER BY id FOR UPDATE SKIP LOCKED";

    /// <summary>$1 ids, $2 the ids locked: the jobs of $1 that exist and were not locked (other transactions hold them).</summary>
    private const string HeldRows = "SELECT id FROM {s}.jobs WHERE id = ANY($1) AND NOT id = ANY($2)";

    /// <summary>
    /// $1 ids: the session holding each row's lock, through its locker's transaction id (<c>xmax</c>): pid, application,
    /// state and seconds its transaction has been open (nulls where this role may not see that session's activity). A row
    /// several transactions share (a multixact) has no single locker and no row here.
    /// </summary>
    private const string RowHolders = """
        SELECT j.id, l.pid, a.application_name, a.state, extract(epoch FROM now() - a.xact_start)::float8
        FROM {s}.jobs j
        JOIN pg_locks l ON l.locktype = 'transactionid' AND l.transactionid = j.xmax AND l.granted AND l.mode = 'ExclusiveLock'
        LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE j.id = ANY($1) AND l.pid <> pg_backend_pid()
        """;

    /// <summary>
    /// <paramref name="action"/> on <paramref name="ids"/>, whose statement waited past its lock wait (55P03, rolled
    /// back): applied to the rows no other transaction holds, the others tried once
    /// more; returns the rows changed, or throws <see cref="JobsLockedException"/> for the jobs still locked.
    /// </summary>
    private async Task<int> ApplyAroundLockedRowsAsync(NpgsqlConnection connection, JobAdminAction action, IReadOnlyList<JobId> ids,
        CancellationToken cancellationToken)
    {
        var notifications = new List<(string Channel, string Payload)>();
        int changed;
        List<JobId> held;
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            List<JobId> free;
            try
            {
                (free, held) = await LockFreeRowsAsync(connection, ids, cancellationToken).ConfigureAwait(false);
                changed = free.Count == 0 ? 0 : await RunActionAsync(connection, action, free, notifications, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException other) when (other.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                throw new JobsException(
                    $"A bulk {Describe(action.Kind)} of {ids.Count} jobs waited past its lock wait (lock_timeout: half the statement_timeout, at most " +
                    $"{MaxLockWaitMilliseconds / 1000} s) for a lock another transaction holds on something other than the jobs' own rows: the jobs " +
                    "table itself (a migration, VACUUM FULL, LOCK TABLE) or a row its change also writes (a unique key, a concurrency key's line). " +
                    "Nothing of this batch changed. Find the long transaction (jobs doctor, or pg_stat_activity ordered by xact_start), end it " +
                    "(SELECT pg_terminate_backend(pid)) or wait for it to end, and run the action again.", other);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        await NotifyAsync(connection, notifications, cancellationToken).ConfigureAwait(false);
        if (held.Count == 0)
        {
            return changed; // the lock was let go meanwhile
        }

        try
        {
            // A worker's claim or completion holds a row for an instant: tried once more, with the lock wait.
            return changed + await ApplyStatementAsync(connection, action, held, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException again) when (again.SqlState is PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.QueryCanceled
            && !cancellationToken.IsCancellationRequested)
        {
            throw await LockedAsync(connection, action, ids.Count, changed, held, again).ConfigureAwait(false);
        }
    }

    /// <summary>Locks the rows of <paramref name="ids"/> no other transaction holds (in the open transaction); returns them, and the others that exist.</summary>
    private async Task<(List<JobId> Free, List<JobId> Held)> LockFreeRowsAsync(NpgsqlConnection connection, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
    {
        var free = new List<JobId>(ids.Count);
        var held = new List<JobId>();
        var batch = new NpgsqlBatch(connection);
        await using var batchDisposal = batch.ConfigureAwait(false);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(LockWait));
        batch.BatchCommands.Add(PostgresCommands.Command(Sub(LockFreeRows), Uuids(ids)));
        var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                free.Add(new JobId(reader.GetGuid(0)));
            }
        }

        if (free.Count == ids.Count)
        {
            return (free, held);
        }

        var command = new NpgsqlCommand(Sub(HeldRows), connection);
        await using var commandDisposal = command.ConfigureAwait(false);
        command.Parameters.Add(Uuids(ids));
        command.Parameters.Add(Uuids(free));
        var rows = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (rows.ConfigureAwait(false))
        {
            while (await rows.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                held.Add(new JobId(rows.GetGuid(0)));
            }
        }

        return (free, held);
    }

    /// <summary>The <see cref="JobsLockedException"/> of a batch of <paramref name="jobs"/> that changed <paramref name="changed"/> and left <paramref name="held"/>, logged.</summary>
    private async Task<JobsLockedException> LockedAsync(NpgsqlConnection connection, JobAdminAction action, int jobs, int changed, List<JobId> held,
        PostgresException cause)
    {
        var holders = await HoldersAsync(connection, held).ConfigureAwait(false);
        var what = Describe(action.Kind);
        var by = holders.Count == 0 ? "transactions that ended before their sessions could be read" : string.Join("; ", holders);
        PostgresLog.BulkRowsLocked(_readOnlyReset.Log, what, jobs, changed, held.Count, by);
        var message =
            $"A bulk {what} of {jobs} jobs changed {changed} and left {held.Count} unchanged ({string.Join(", ", held)}): other transactions hold " +
            $"their rows locked, past the action's lock wait (lock_timeout: half the statement_timeout, at most {MaxLockWaitMilliseconds / 1000} s). " +
            $"Held by: {by}. End that transaction (SELECT pg_terminate_backend(pid)) or wait for it to commit or roll back, then run the action " +
            "again on the jobs left; see jobs doctor for long transactions.";
        return new JobsLockedException(message, changed, held, holders, cause);
    }

    /// <summary>One line per session that holds rows of <paramref name="held"/>: pid, application, state, how long its transaction has been open, the rows.</summary>
    private async Task<List<string>> HoldersAsync(NpgsqlConnection connection, List<JobId> held)
    {
        var sessions = new SortedDictionary<int, (string? Application, string? State, double? Seconds, int Rows)>();
        try
        {
            var command = new NpgsqlCommand(Sub(RowHolders), connection);
            await using var commandDisposal = command.ConfigureAwait(false);
            command.Parameters.Add(Uuids(held));
            var reader = await command.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
            await using var readerDisposal = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                var pid = reader.GetInt32(1);
                var rows = sessions.TryGetValue(pid, out var known) ? known.Rows : 0;
                sessions[pid] = (reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetDouble(4), rows + 1);
            }
        }
        catch (NpgsqlException)
        {
            // The connection broke: the message says the holders could not be read.
        }

        return [.. sessions.Select(s => Holder(s.Key, s.Value.Application, s.Value.State, s.Value.Seconds, s.Value.Rows))];
    }

    private static string Holder(int pid, string? application, string? state, double? seconds, int rows)
    {
        var open = seconds is { } s ? TimeSpan.FromSeconds(Math.Round(s)).ToString("c", CultureInfo.InvariantCulture) : null;
        var activity = state is null
            ? "its activity not visible to this role (pg_read_all_stats shows it)"
            : $"application '{application}', {state}, its transaction open for {open}";
        return $"pid {pid} ({activity}) holds {rows} of them";
    }

    private static NpgsqlParameter<Guid[]> Uuids(IReadOnlyList<JobId> ids)
        => new() { TypedValue = ids.Select(i => i.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid };
}
