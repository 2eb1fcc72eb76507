using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <content>
/// The jobs table's statements of the admin store (job lists and their bulk actions' ids, a job's details, the actions and
/// their dry runs) under Npgsql's automatic preparation (<c>Max Auto Prepare</c>): the dashboard and tools run them over and
/// over with the same text, so Npgsql prepares them, and PostgreSQL then switched them to a generic plan built on the
/// table's statistics of that moment, kept until the next ANALYZE: built while the table was small, it read the whole jobs
/// table at every call once it had grown. On a data source that auto-prepares they run with a transaction-local
/// <c>plan_cache_mode = force_custom_plan</c> in front of them, in the same round trip (<see cref="SqlRun.CustomPlan"/>'s
/// setting); without automatic preparation nothing is added.
/// </content>
public sealed partial class PostgresJobAdminStore
{
    /// <summary>The setting in front of a jobs table statement on a data source that auto-prepares (one row, one column).</summary>
    private static readonly string CustomPlan = JobSql.TransactionSettings(asynchronousCommit: false, genericPlan: false, maintenance: false, customPlan: true)!;

    /// <summary>
    /// <paramref name="sql"/> with <paramref name="parameters"/> on <paramref name="connection"/>, behind <see cref="CustomPlan"/>
    /// when the data source auto-prepares (<see cref="_autoPrepares"/>). Read it with <see cref="ReadJobsAsync"/>; its rows
    /// changed: <see cref="JobsRowsAsync"/>.
    /// </summary>
    private NpgsqlBatch JobsStatement(NpgsqlConnection connection, string sql, params ReadOnlySpan<NpgsqlParameter> parameters)
    {
        var batch = new NpgsqlBatch(connection);
        if (_autoPrepares)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(CustomPlan));
        }

        batch.BatchCommands.Add(PostgresCommands.Command(sql, parameters));
        return batch;
    }

    /// <summary>
    /// A <see cref="JobsStatement"/> of a bulk action: behind <see cref="LockWait"/> (its transaction waits for a row lock
    /// at most half the statement_timeout, <see cref="PostgresJobAdminStore"/>'s LockWaits), in the same round trip.
    /// </summary>
    private NpgsqlBatch ActionStatement(NpgsqlConnection connection, string sql, params ReadOnlySpan<NpgsqlParameter> parameters)
    {
        var batch = JobsStatement(connection, sql, parameters);
        batch.BatchCommands.Insert(0, new NpgsqlBatchCommand(LockWait));
        return batch;
    }

    /// <summary>Runs a <see cref="JobsStatement"/>; the reader is at its statement's result (past the settings').</summary>
    private static async Task<NpgsqlDataReader> ReadJobsAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var setting = 1; setting < batch.BatchCommands.Count; setting++)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            // The statement failed (a lock wait, a timeout): the reader lets the connection go for what the store runs next.
            await reader.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return reader;
    }

    /// <summary>Runs a <see cref="JobsStatement"/> that returns no rows; returns the rows its statement changed.</summary>
    private static async Task<int> JobsRowsAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return batch.BatchCommands[^1].RecordsAffected;
    }
}
