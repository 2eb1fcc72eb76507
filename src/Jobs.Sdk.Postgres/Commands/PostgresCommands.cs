using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>How <see cref="PostgresCommands"/> runs a statement.</summary>
[Flags]
internal enum SqlRun
{
    /// <summary>Unprepared, plain commit.</summary>
    None = 0,

    /// <summary>Prepare the statement (hot paths: the connection keeps the plan).</summary>
    Prepare = 1,

    /// <summary>
    /// Worker bookkeeping (claims, completions): with <see cref="PostgresJobDriverOptions.FastWorkerCommits"/> the batch
    /// starts with a transaction-local <c>synchronous_commit = off</c>, so the commit does not wait for the WAL flush.
    /// </summary>
    WorkerCommit = 2,

    /// <summary>The statement binds arrays: a data source that cannot write them gets an actionable error.</summary>
    Arrays = 4,

    /// <summary>
    /// Run the prepared statement with its generic plan (a transaction-local <c>plan_cache_mode = force_generic_plan</c>
    /// in front of it): for statements whose generic plan is the plan wanted, but whose custom plans the planner
    /// estimates cheaper, so that PostgreSQL would plan them again on every execution (the claim). The same statement
    /// turns JIT off for the transaction: the generic plan's estimate grows with the table and would otherwise pass
    /// <c>jit_above_cost</c> on a large queue, compiling the statement on every execution.
    /// </summary>
    GenericPlan = 8,

    /// <summary>
    /// Maintenance over possibly many rows (lease rescue, cleanup, retention): the batch starts with a transaction-local
    /// <c>statement_timeout = 0</c>. A role's short timeout cancelled them at every pass on a large queue, and expired
    /// leases were never rescued, finished jobs never removed; every other statement keeps the timeout.
    /// </summary>
    Maintenance = 16,

    /// <summary>
    /// Plan the prepared statement without sequential scans (a transaction-local <c>enable_seqscan = off</c>, and JIT off,
    /// in front of it): for statements that read the jobs table only through an index that is right at any table size,
    /// but whose generic plan, when PostgreSQL built it while the table's statistics said the table was small (a young or
    /// quiet queue), read the whole table instead, on every execution until the table was analyzed again (a keyed push's
    /// admission look-up, during a burst of keyed pushes). Only on a connection of the driver's own, in its implicit
    /// transaction: the setting lasts to the end of the transaction, and a caller's transaction goes on after the push.
    /// </summary>
    NoSeqScan = 32,

    /// <summary>
    /// Never a generic plan, also when Npgsql prepares the statement on its own (the data source sets
    /// <c>Max Auto Prepare</c>): for statements that run unprepared so that each execution is planned on the table's size
    /// at that moment (a keyed batch's admission, a keyed push in a caller's transaction, a unique push's release). On a
    /// connection that auto-prepares, the statement runs with a transaction-local <c>plan_cache_mode = force_custom_plan</c>
    /// in front of it; in a caller's transaction the caller's value is saved in the same statement and set back right after
    /// the statement, in the same round trip (<see cref="JobSql.ForceCustomPlanSavingCallers"/>), so the caller's
    /// transaction goes on with its own. Without automatic preparation: nothing (the statement is not prepared).
    /// </summary>
    CustomPlan = 64,
}

/// <summary>
/// Runs the driver's statements: opens a pooled connection (or uses the caller's transaction), binds positional
/// parameters, prepares when asked (and <paramref name="preparation"/> allows it: not behind a transaction pooler),
/// executes, and disposes everything. The one place that knows the Npgsql plumbing. A write the server refuses as
/// read-only on a connection of the driver's own clears the pool (<see cref="ReadOnlyPoolReset"/>); on the caller's
/// connection it does not: a push in the caller's read-only transaction is refused without any failover.
/// </summary>
internal sealed class PostgresCommands(NpgsqlDataSource dataSource, bool fastWorkerCommits, PostgresPreparation preparation,
    ReadOnlyPoolReset? readOnlyReset = null)
{
    private readonly ReadOnlyPoolReset _readOnlyReset = readOnlyReset ?? new ReadOnlyPoolReset(dataSource, NullLogger.Instance);

    private readonly bool _autoPrepares = AutoPrepares(dataSource.ConnectionString);

    private bool? _enlists;

    private volatile OtherSource? _lastOther;

    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>
    /// Whether a push given no transaction joins the caller's ambient transaction (a <c>TransactionScope</c>): there is one,
    /// and the data source's connections enlist in it (<c>Enlist=true</c>, Npgsql's default). It then runs as a push given
    /// the transaction does (<see cref="OnAmbientTransactionAsync"/>).
    /// </summary>
    public bool JoinsAmbientTransaction =>
        System.Transactions.Transaction.Current is not null && (_enlists ??= new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Enlist);

    /// <summary>
    /// Runs <paramref name="push"/> on a connection enlisted in the caller's ambient transaction. Closing it hands it back
    /// to the pool for that transaction, so the scope's next push (or the app's next connection of this data source) gets
    /// the same session: one enlistment, no escalation, committed or rolled back with the scope.
    /// </summary>
    public async Task<T> OnAmbientTransactionAsync<T>(Func<NpgsqlConnection, Task<T>> push, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionRecheckingAsync(cancellationToken, enlist: true).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await push(connection).ConfigureAwait(false);
        }
    }

    /// <summary>Whether statements may be prepared (not behind a transaction pooler).</summary>
    public PostgresPreparation Preparation => preparation;

    /// <summary>
    /// Whether Npgsql prepares statements on its own on <paramref name="connection"/> (a pooled connection of the data source
    /// when null): its connection string sets <c>Max Auto Prepare</c> above 0. Such a connection prepares a statement run
    /// <c>Auto Prepare Min Usages</c> times (5 by default), and PostgreSQL may then run its generic plan (<see cref="SqlRun.CustomPlan"/>).
    /// </summary>
    public bool AutoPrepares(NpgsqlConnection? connection)
    {
        var connectionString = connection?.ConnectionString;
        if (connectionString is null || string.Equals(connectionString, dataSource.ConnectionString, StringComparison.Ordinal))
        {
            return _autoPrepares;
        }

        // A connection of another data source (the caller's): its settings, remembered for the next push on it.
        if (_lastOther is { } last && string.Equals(last.ConnectionString, connectionString, StringComparison.Ordinal))
        {
            return last.AutoPrepares;
        }

        var autoPrepares = AutoPrepares(connectionString);
        _lastOther = new OtherSource(connectionString, autoPrepares);
        return autoPrepares;
    }

    /// <summary>
    /// Whether connections of <paramref name="connectionString"/> prepare statements on their own: it sets Npgsql's
    /// <c>Max Auto Prepare</c> above 0 (the one rule for the driver's statements and the admin store's).
    /// </summary>
    public static bool AutoPrepares(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).MaxAutoPrepare > 0;

    /// <summary>Runs <paramref name="sql"/> and returns the number of rows it changed.</summary>
    public Task<int> ExecuteAsync(string sql, NpgsqlParameter[] parameters, SqlRun run, CancellationToken cancellationToken)
        => RunAsync(sql, parameters, run, null, null, static (batch, ct) => batch.ExecuteNonQueryAsync(ct), cancellationToken);

    /// <summary>
    /// Runs <paramref name="sql"/> as a transaction of its own (committed as the session commits), then, in the same
    /// round trip, <paramref name="after"/> as a second transaction: the server runs it right after the first one's
    /// commit. On <paramref name="connection"/> (a pooled connection of its own when null). Throws when
    /// <paramref name="sql"/> fails; an error of <paramref name="after"/> (the first transaction committed) is returned,
    /// not thrown, also when the caller's token cancelled it.
    /// </summary>
    public Task<PostgresException?> ExecuteThenAsync(NpgsqlConnection? connection, string sql, NpgsqlParameter[] parameters, SqlRun run,
        IReadOnlyList<NpgsqlBatchCommand> after, CancellationToken cancellationToken)
        => RunAsync(sql, parameters, run, connection, null, async (batch, ct) =>
        {
            var first = batch.BatchCommands[batch.BatchCommands.Count - after.Count - 1];
            try
            {
                await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return (PostgresException?)null;
            }
            catch (PostgresException ex) when (first.StatementType != StatementType.Unknown)
            {
                return ex; // the first statement completed (its command tag arrived): the error is the second transaction's
            }
            catch (OperationCanceledException ex) when (first.StatementType != StatementType.Unknown && ex.InnerException is PostgresException cancelled)
            {
                return cancelled; // likewise: the server cancelled the second transaction
            }
        }, cancellationToken, after: after);

    /// <summary>Runs <paramref name="sql"/> on the caller's <paramref name="connection"/> and <paramref name="transaction"/>.</summary>
    public Task<int> ExecuteOnAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, NpgsqlParameter[] parameters,
        SqlRun run, CancellationToken cancellationToken)
        => RunAsync(sql, parameters, run, connection, transaction, static (batch, ct) => batch.ExecuteNonQueryAsync(ct), cancellationToken);

    /// <summary>
    /// Runs <paramref name="before"/> (when given) and then <paramref name="sql"/> in one round trip and one transaction (the
    /// caller's <paramref name="transaction"/>, or an implicit one), on <paramref name="connection"/> (a pooled connection
    /// of its own when null); returns the rows changed. Under READ COMMITTED <paramref name="sql"/> reads a snapshot taken
    /// after <paramref name="before"/> returned (a lock).
    /// </summary>
    public Task<int> ExecuteOnAsync(NpgsqlConnection? connection, NpgsqlTransaction? transaction, NpgsqlBatchCommand? before, string sql,
        NpgsqlParameter[] parameters, SqlRun run, CancellationToken cancellationToken)
        => RunAsync(sql, parameters, run, connection, transaction, static (batch, ct) => batch.ExecuteNonQueryAsync(ct), cancellationToken, Before(before));

    /// <summary>
    /// Runs the statements of <paramref name="before"/> in their order and then <paramref name="sql"/>, in one round trip
    /// (a pipeline: each statement is its own for <c>statement_timeout</c>) and one transaction (the caller's
    /// <paramref name="transaction"/>, or an implicit one: all or nothing), on <paramref name="connection"/> (a pooled
    /// connection of its own when null); returns the rows changed.
    /// </summary>
    public Task<int> ExecuteOnAsync(NpgsqlConnection? connection, NpgsqlTransaction? transaction, IReadOnlyList<NpgsqlBatchCommand> before, string sql,
        NpgsqlParameter[] parameters, SqlRun run, CancellationToken cancellationToken)
        => RunAsync(sql, parameters, run, connection, transaction, static (batch, ct) => batch.ExecuteNonQueryAsync(ct), cancellationToken, before);

    /// <summary>Runs <paramref name="sql"/> and returns the first column of its first row (null when there is none).</summary>
    public Task<object?> ScalarAsync(string sql, NpgsqlParameter[] parameters, SqlRun run, CancellationToken cancellationToken)
        => QueryAsync(sql, parameters, run, static async (reader, ct) =>
            await reader.ReadAsync(ct).ConfigureAwait(false) && !reader.IsDBNull(0) ? reader.GetValue(0) : null, cancellationToken);

    /// <summary>Runs <paramref name="sql"/> and hands its rows to <paramref name="read"/>.</summary>
    public Task<T> QueryAsync<T>(string sql, NpgsqlParameter[] parameters, SqlRun run,
        Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
        => QueryAsync(null, sql, parameters, run, read, cancellationToken);

    /// <summary>
    /// Runs <paramref name="before"/> (when given) and then <paramref name="sql"/> in one round trip and one implicit
    /// transaction, handing the rows of <paramref name="sql"/> to <paramref name="read"/>. Each statement reads a fresh
    /// snapshot, so <paramref name="sql"/> sees everything committed before <paramref name="before"/> returned (a lock).
    /// </summary>
    public Task<T> QueryAsync<T>(NpgsqlBatchCommand? before, string sql, NpgsqlParameter[] parameters, SqlRun run,
        Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
        => QueryOnAsync(null, null, before, sql, parameters, run, read, cancellationToken);

    /// <summary>
    /// <see cref="QueryAsync{T}(NpgsqlBatchCommand?, string, NpgsqlParameter[], SqlRun, Func{NpgsqlDataReader, CancellationToken, Task{T}}, CancellationToken)"/>
    /// on the caller's <paramref name="connection"/> and <paramref name="transaction"/> (a pooled connection of its own when null).
    /// </summary>
    public Task<T> QueryOnAsync<T>(NpgsqlConnection? connection, NpgsqlTransaction? transaction, NpgsqlBatchCommand? before, string sql,
        NpgsqlParameter[] parameters, SqlRun run, Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
        => QueryOnAfterAsync(connection, transaction, Before(before), sql, parameters, run, read, cancellationToken);

    /// <summary>
    /// <see cref="QueryOnAsync{T}(NpgsqlConnection?, NpgsqlTransaction?, NpgsqlBatchCommand?, string, NpgsqlParameter[], SqlRun, Func{NpgsqlDataReader, CancellationToken, Task{T}}, CancellationToken)"/>
    /// with several statements in front of <paramref name="sql"/> (in the same round trip).
    /// </summary>
    public Task<T> QueryOnAfterAsync<T>(NpgsqlConnection? connection, NpgsqlTransaction? transaction, IReadOnlyList<NpgsqlBatchCommand>? before, string sql,
        NpgsqlParameter[] parameters, SqlRun run, Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
        => RunAsync(sql, parameters, run, connection, transaction, async (batch, ct) =>
        {
            var reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var main = batch.BatchCommands.Count - 1;
                while (ReferenceEquals(batch.BatchCommands[main].CommandText, JobSql.RestoreCallersPlanCacheMode))
                {
                    main--; // the statement after it that sets the caller's plan_cache_mode back (SqlRun.CustomPlan)
                }

                for (var skip = main; skip > 0; skip--)
                {
                    // Skip the results of the commands in front of the statement (the worker-commit setting).
                    await reader.NextResultAsync(ct).ConfigureAwait(false);
                }

                return await read(reader, ct).ConfigureAwait(false);
            }
        }, cancellationToken, before);

    /// <summary>Runs several statements in one round trip, as one implicit transaction (all or nothing).</summary>
    public Task ExecuteBatchAsync(IReadOnlyList<NpgsqlBatchCommand> commands, CancellationToken cancellationToken)
        => IdleSessionRetry.RunAsync(dataSource, async (connection, again) =>
        {
            var batch = new NpgsqlBatch(connection);
            await using var batchDisposal = batch.ConfigureAwait(false);
            foreach (var command in commands)
            {
                batch.BatchCommands.Add(again ? IdleSessionRetry.Detached(command) : command);
            }

            try
            {
                return await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex)
            {
                _readOnlyReset.OnFailure(ex);
                throw;
            }
        }, cancellationToken);

    /// <summary>One statement of a batch with its parameters.</summary>
    public static NpgsqlBatchCommand Command(string sql, params ReadOnlySpan<NpgsqlParameter> parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static NpgsqlBatchCommand[]? Before(NpgsqlBatchCommand? before) => before is null ? null : [before];

    /// <summary>
    /// Runs the statements on <paramref name="connection"/>, or on a pooled connection of their own when null (once more on
    /// a new one when the server had ended it while it idled, <see cref="IdleSessionRetry"/>).
    /// </summary>
    private Task<T> RunAsync<T>(string sql, NpgsqlParameter[] parameters, SqlRun run, NpgsqlConnection? connection,
        NpgsqlTransaction? transaction, Func<NpgsqlBatch, CancellationToken, Task<T>> execute, CancellationToken cancellationToken,
        IReadOnlyList<NpgsqlBatchCommand>? before = null, IReadOnlyList<NpgsqlBatchCommand>? after = null)
        => connection is not null
            ? RunOnAsync(sql, parameters, run, connection, own: false, transaction, execute, cancellationToken, before, after)
            : IdleSessionRetry.RunAsync(dataSource, (pooled, again) => RunOnAsync(sql, parameters, run, pooled, own: true, null, execute, cancellationToken,
                again && before is not null ? [.. before.Select(IdleSessionRetry.Detached)] : before,
                again && after is not null ? [.. after.Select(IdleSessionRetry.Detached)] : after), cancellationToken);

    private async Task<T> RunOnAsync<T>(string sql, NpgsqlParameter[] parameters, SqlRun run, NpgsqlConnection connection, bool own,
        NpgsqlTransaction? transaction, Func<NpgsqlBatch, CancellationToken, Task<T>> execute, CancellationToken cancellationToken,
        IReadOnlyList<NpgsqlBatchCommand>? before, IReadOnlyList<NpgsqlBatchCommand>? after)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        await using var batchDisposal = batch.ConfigureAwait(false);
        var customPlan = (run & SqlRun.CustomPlan) != 0 && AutoPrepares(own ? null : connection);
        if (customPlan && !own)
        {
            // Not a connection taken here: the transaction may be the caller's (or the ambient one), and goes on after the
            // statement. Its plan_cache_mode is set back after it (below).
            batch.BatchCommands.Add(new NpgsqlBatchCommand(JobSql.ForceCustomPlanSavingCallers));
        }

        if (JobSql.TransactionSettings((run & SqlRun.WorkerCommit) != 0 && fastWorkerCommits, (run & SqlRun.GenericPlan) != 0,
                (run & SqlRun.Maintenance) != 0, (run & SqlRun.NoSeqScan) != 0, customPlan && own) is { } settings)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(settings));
        }

        foreach (var command in before ?? [])
        {
            batch.BatchCommands.Add(command);
        }

        var main = Command(sql, parameters);
        batch.BatchCommands.Add(main);
        if (customPlan && !own)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(JobSql.RestoreCallersPlanCacheMode));
        }

        if (after is not null)
        {
            // An error barrier (a Sync) ends the implicit transaction here: what follows is a transaction of its own.
            main.AppendErrorBarrier = true;
            foreach (var command in after)
            {
                batch.BatchCommands.Add(command);
            }
        }

        try
        {
            if ((run & SqlRun.Prepare) != 0 && preparation.Prepares(own ? null : connection))
            {
                await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
            }

            return await execute(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when ((run & SqlRun.Arrays) != 0 && ex is InvalidCastException or NotSupportedException)
        {
            throw ArraysNotEnabled(ex);
        }
        catch (PostgresException ex) when (IdleSessionRetry.SessionEnded(ex))
        {
            // Nothing ran: the parameters are free for the statement's run on a new connection (here or by the caller).
            main.Parameters.Clear();
            throw;
        }
        catch (PostgresException ex) when (own)
        {
            _readOnlyReset.OnFailure(ex); // before the connection goes back: the cleared pool closes it then
            throw;
        }
    }

    /// <summary>Whether a caller's data source (connection string) auto-prepares.</summary>
    private sealed record OtherSource(string ConnectionString, bool AutoPrepares);

    private static InvalidOperationException ArraysNotEnabled(Exception ex) => new(
        "The PostgreSQL job driver binds arrays for batch operations, and this NpgsqlDataSource cannot write them. " +
        "If you built it with NpgsqlSlimDataSourceBuilder, call EnableArrays() on the builder (or pass a connection string to UsePostgres). " +
        $"Npgsql said: {ex.Message}", ex);
}
