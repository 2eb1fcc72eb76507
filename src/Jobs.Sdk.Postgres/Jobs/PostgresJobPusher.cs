using System.Data.Common;
using System.Diagnostics;
using Jobs.Sdk.Drivers;
using Npgsql;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>Stores new jobs: one statement for one job, array statements for many, all in the caller's transaction when given.</summary>
internal sealed class PostgresJobPusher(PostgresQueueContext context, RetentionPolicy retention)
{
    /// <summary>
    /// The jobs of a batch one statement stores. A larger batch takes several, sent in one round trip (one transaction):
    /// <c>statement_timeout</c> applies to each statement of it, so a role's short timeout (managed PostgreSQL) that lets a
    /// push of this many jobs pass lets any batch pass. One statement of 10,000 rows ran past a 150 ms timeout (57014). A
    /// statement of this many that still runs past it (a loaded server, a slow trigger) is halved (<see cref="PushOnAsync"/>).
    /// </summary>
    private const int RowsPerStatement = 1_000;

    /// <summary>
    /// <see cref="RowsPerStatement"/> for a batch with concurrency keys: a keyed row costs the server three to four times
    /// an unkeyed one (its key's line is counted for admission), 35–60 ms per 1,000 rows of distinct keys on a loaded machine.
    /// </summary>
    private const int KeyedRowsPerStatement = 250;

    private readonly PostgresPushOutcome _outcome = new(context);
    private readonly PostgresUniquePusher _unique = new(context, retention, new PostgresPushOutcome(context));

    private readonly string _pushSql = context.Sql(JobSql.Push);
    private readonly string _pushPlainSql = context.Sql(JobSql.PushPlain);
    private readonly string _pushManySql = context.Sql(JobSql.PushMany);
    private readonly string _lockKeysSql = context.Sql(KeyAdmissionSql.Lock);
    private readonly string _lockKeySql = context.Sql(KeyAdmissionSql.LockOne);
    private readonly string _pushKeyedSql = context.Sql(KeyAdmissionSql.Push);
    private readonly string _pushManyKeyedSql = context.Sql(KeyAdmissionSql.PushMany);

    /// <summary>Stores <paramref name="job"/> unless its unique key is held (see <see cref="PostgresUniquePusher"/>).</summary>
    public async Task<JobPushResult> PushUniqueAsync(JobPushRecord job, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.UniqueKey is null)
        {
            await PushAsync([job], transaction, cancellationToken).ConfigureAwait(false);
            return new JobPushResult(job.Id, true);
        }

        return await _unique.PushAsync(job, Join(transaction), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores the jobs of <paramref name="jobs"/> whose unique keys are free, all in one transaction (see <see cref="PostgresUniquePusher"/>).</summary>
    public Task<IReadOnlyList<JobPushResult>> PushUniqueManyAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        return _unique.PushManyAsync(jobs, Join(transaction), cancellationToken);
    }

    /// <summary>Whether a push given no transaction now joins the caller's ambient transaction (<c>Enlist=true</c>, a scope open).</summary>
    public bool JoinsAmbientTransaction => context.Commands.JoinsAmbientTransaction;

    public async Task PushAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var tx = Join(transaction);
        if (jobs.Count == 0)
        {
            return;
        }

        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var ambient = tx is null && context.Commands.JoinsAmbientTransaction;
        if (tx is not null)
        {
            // In the caller's transaction only its commit may wake workers: the statement notifies, in that transaction.
            await PushOnAsync(tx.Connection!, tx, jobs, context.Channel, own: false, cancellationToken).ConfigureAwait(false);
        }
        else if (ambient)
        {
            // In the caller's ambient transaction (a TransactionScope): as in the caller's transaction, all chunks in it.
            await context.Commands.OnAmbientTransactionAsync(async c =>
            {
                await PushOnAsync(c, null, jobs, context.Channel, own: false, cancellationToken).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
        else if (jobs.Count == 1 && jobs[0].ConcurrencyKey is null)
        {
            if (await _outcome.RunAsync(jobs, c => PushRidingAsync(c, jobs, cancellationToken), static () => false, cancellationToken).ConfigureAwait(false))
            {
                return; // announced in the push's own round trip
            }
        }
        else
        {
            // A keyed push locks its key in a first statement of its round trip (admission); it is announced as usual.
            await _outcome.RunAsync(jobs, async c =>
            {
                await PushOwnAsync(c, jobs, cancellationToken).ConfigureAwait(false);
                return true;
            }, static () => true, cancellationToken).ConfigureAwait(false);
        }

        // Outside a caller's transaction the statements sent no NOTIFY (commits of notifying transactions are serialized
        // by PostgreSQL): announce the committed jobs now. Poll-only mode: wake this process's own workers.
        context.Notifier.JobsPushed(jobs, announce: tx is null && !ambient);
    }

    /// <summary>
    /// Pushes <paramref name="jobs"/> outside a caller's transaction on <paramref name="connection"/>, all or nothing: the
    /// statements of a batch go in one round trip, one implicit transaction.
    /// </summary>
    private Task PushOwnAsync(NpgsqlConnection connection, IReadOnlyList<JobPushRecord> jobs, CancellationToken cancellationToken)
        => PushOnAsync(connection, null, jobs, null, own: true, cancellationToken);

    /// <summary>
    /// Pushes one unkeyed job outside a caller's transaction, as a bare insert (<see cref="JobSql.PushPlain"/>). When the
    /// announcer lets it ride (nothing else in flight), its NOTIFY follows in the same round trip as a transaction of its
    /// own, right after the push's durable commit; returns whether the job is announced (false: poll-only mode or no ride:
    /// the caller announces it).
    /// </summary>
    private async Task<bool> PushRidingAsync(NpgsqlConnection connection, IReadOnlyList<JobPushRecord> jobs, CancellationToken cancellationToken)
    {
        var ride = context.Notifier.TryRide(jobs);
        if (ride is null)
        {
            await context.Commands.ExecuteOnAsync(connection, null, _pushPlainSql, PushPlain(jobs[0]), SqlRun.Prepare, cancellationToken).ConfigureAwait(false);
            return false;
        }

        PostgresException? announceFailed = null;
        try
        {
            // An error of the announcement (the push committed) comes back here: the announcer sends it again.
            announceFailed = await context.Commands.ExecuteThenAsync(connection, _pushPlainSql, PushPlain(jobs[0]), SqlRun.Prepare, ride, cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            context.Notifier.RideEnded(jobs, announceFailed);
        }

        return true;
    }

    private static NpgsqlTransaction? Join(DbTransaction? transaction)
    {
        if (transaction is null)
        {
            return null;
        }

        var tx = transaction as NpgsqlTransaction ?? throw new ArgumentException(
            $"The PostgreSQL job driver can only join an NpgsqlTransaction, not a {transaction.GetType().Name}. " +
            "Begin the transaction on an NpgsqlConnection to the job database.", nameof(transaction));
        return tx.Connection is null
            ? throw new InvalidOperationException("The transaction passed to PushAsync has already been committed or rolled back.")
            : tx;
    }

    /// <summary>The parameters of <see cref="JobSql.PushPlain"/> for <paramref name="job"/> (unkeyed).</summary>
    private NpgsqlParameter[] PushPlain(JobPushRecord job) => JobRows.Push(job, [Text(context.Queue)]);

    /// <param name="job">The job.</param>
    /// <param name="channel">The channel the statement notifies, or null for none.</param>
    private NpgsqlParameter[] PushOne(JobPushRecord job, string? channel) => [.. JobRows.Push(job, [Text(context.Queue)], Text(channel)), .. JobRows.Keys(job)];

    /// <summary>
    /// Pushes <paramref name="jobs"/> on <paramref name="connection"/> (a pooled one of its own when null). Unkeyed jobs
    /// take one statement per <see cref="RowsPerStatement"/>; a batch with keys takes one per
    /// <see cref="KeyedRowsPerStatement"/>, after a first statement that locks all its keys (in one order, so concurrent
    /// batches cannot deadlock; their buckets for many keys: <see cref="ConcurrencyKeySql.LockKeys"/>), so the pushes that
    /// follow count their lines on snapshots taken under the locks and admit the jobs that find room
    /// (<see cref="KeyAdmissionSql"/>). All of them in one round trip and one transaction (the caller's, or an implicit one).
    /// <paramref name="own"/>: the transaction is the statements' implicit one on a connection of the driver's own (it ends
    /// with them). A statement that runs past the session's statement_timeout rolls the push back whole: in its own
    /// transaction it is sent again in statements of half the rows, down to one (<see cref="PushStatementTimeout"/>); in
    /// the caller's, the push throws that exception's message (the transaction is aborted).
    /// </summary>
    private async Task PushOnAsync(NpgsqlConnection? connection, NpgsqlTransaction? transaction, IReadOnlyList<JobPushRecord> jobs, string? channel,
        bool own, CancellationToken cancellationToken)
    {
        var commands = context.Commands;
        if (jobs.Count == 1)
        {
            var job = jobs[0];
            var keyed = job.ConcurrencyKey is not null;
            // A keyed push's admission look-up is planned without sequential scans (SqlRun.NoSeqScan): its generic plan,
            // built while the table's statistics said it was small, read the whole table on every push of a burst. That
            // setting would outlast the push in a caller's (or the ambient) transaction: there the push is not prepared,
            // so each one is planned on the table's size at that moment, also when Npgsql prepares it on its own
            // (SqlRun.CustomPlan: Max Auto Prepare).
            var plan = !keyed ? SqlRun.Prepare : own ? SqlRun.Prepare | SqlRun.NoSeqScan : SqlRun.CustomPlan;
            await commands.ExecuteOnAsync(connection, transaction, keyed ? PostgresCommands.Command(_lockKeySql, Text(context.Queue), Text(job.ConcurrencyKey)) : null, keyed ? _pushKeyedSql : _pushSql,
                PushOne(job, channel), plan, cancellationToken).ConfigureAwait(false);
            return;
        }

        var keyedBatch = jobs.Any(j => j.ConcurrencyKey is not null);
        var rows = keyedBatch ? KeyedRowsPerStatement : RowsPerStatement;
        // A keyed batch's statements are not prepared: planned for each execution on the table's size then. Prepared,
        // PostgreSQL switched the keyed statement to a generic plan after five runs, planned on a table still small: a
        // sequential scan per key (admission), kept by the session until the table is analyzed again (1,300 against 30,000
        // jobs/s). The same when Npgsql prepares it on its own (Max Auto Prepare): SqlRun.CustomPlan.
        var run = keyedBatch ? SqlRun.Arrays | SqlRun.CustomPlan : SqlRun.Prepare | SqlRun.Arrays;
        for (;;)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await PushInStatementsAsync(connection, transaction, jobs, channel, keyedBatch, rows, run, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.QueryCanceled && !cancellationToken.IsCancellationRequested && connection is not null)
            {
                // A statement ran past statement_timeout (PushStatementTimeout): in the driver's own transaction all of it
                // was rolled back, and it is pushed again whole in statements of half the rows; the caller's is aborted.
                var timeout = await PushStatementTimeout.ReadAsync(connection, own, commands.DataSource, Stopwatch.GetElapsedTime(started)).ConfigureAwait(false);
                if (timeout is null)
                {
                    throw;
                }

                if (!own)
                {
                    throw PushStatementTimeout.InCallersTransaction(jobs.Count, rows, timeout, e);
                }

                if (rows == 1)
                {
                    throw PushStatementTimeout.EvenOneRow(jobs.Count, timeout, e);
                }

                rows /= 2;
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="jobs"/> in statements of <paramref name="rows"/> rows, in one round trip (one transaction: the
    /// caller's, or an implicit one), after a statement that locks their keys when <paramref name="keyedBatch"/>.
    /// </summary>
    private async Task PushInStatementsAsync(NpgsqlConnection? connection, NpgsqlTransaction? transaction, IReadOnlyList<JobPushRecord> jobs, string? channel,
        bool keyedBatch, int rows, SqlRun run, CancellationToken cancellationToken)
    {
        var before = new List<NpgsqlBatchCommand>();
        if (keyedBatch)
        {
            before.Add(LockKeys([.. jobs.Select(j => j.ConcurrencyKey)]));
        }

        for (var start = 0; ; start += rows)
        {
            var count = Math.Min(rows, jobs.Count - start);
            var keys = JobRows.KeysMany(jobs, start, count);
            var keyed = ((string?[])keys[0].Value!).Any(k => k is not null);
            NpgsqlParameter[] parameters = [Text(context.Queue), .. JobRows.PushMany(jobs, start, count), Text(channel), .. keys];
            if (start + count == jobs.Count)
            {
                await context.Commands.ExecuteOnAsync(connection, transaction, before, keyed ? _pushManyKeyedSql : _pushManySql, parameters,
                    run, cancellationToken).ConfigureAwait(false);
                return;
            }

            before.Add(PostgresCommands.Command(keyed ? _pushManyKeyedSql : _pushManySql, parameters));
        }
    }

    /// <summary>The statement that locks <paramref name="keys"/> before a keyed push (<see cref="KeyAdmissionSql.Lock"/>).</summary>
    private NpgsqlBatchCommand LockKeys(string?[] keys) =>
        PostgresCommands.Command(_lockKeysSql, Text(context.Queue), Array(keys, NpgsqlTypes.NpgsqlDbType.Text));
}
