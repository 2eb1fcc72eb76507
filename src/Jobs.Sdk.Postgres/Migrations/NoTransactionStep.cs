using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Runs a migration step marked <c>-- jobs:no-transaction</c>, statement by statement in autocommit mode, on the
/// migrating session (which holds the migration lock and the migrations' <c>lock_timeout</c>).
/// </summary>
/// <remarks>
/// A <c>CREATE INDEX CONCURRENTLY</c> runs without a lock timeout: it waits for every transaction of its database older
/// than its snapshots (and for those writing its table), however long they stay open, and neither that wait nor its table
/// lock (<c>SHARE UPDATE EXCLUSIVE</c>) blocks any read or write; failing it after the lock timeout failed every
/// migration while any session (a report, an idle <c>psql</c> in a transaction) kept a transaction open that long. While it
/// waits, <see cref="MigrationWaitReport"/> is told which sessions it waits for; a cancel ends the wait (the invalid index
/// it leaves is dropped before the next attempt builds it again). Any other statement keeps the lock timeout.
/// </remarks>
internal sealed class NoTransactionStep(NpgsqlDataSource dataSource, NpgsqlConnection connection, string schema, string quoted, PostgresMigration migration,
    TimeSpan lockTimeout, MigrationWaitReport? report)
{
    /// <summary>Runs the step's statements (not its record).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        foreach (var statement in MigrationMarkers.Statements(migration.Sql))
        {
            if (MigrationMarkers.ConcurrentIndexName(statement) is { } index)
            {
                await BuildIndexAsync(statement, quoted + "." + index, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ExecuteAsync(statement, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Drops <paramref name="index"/> if a build that failed part-way left it invalid (<c>IF NOT EXISTS</c> would accept
    /// it as built), then builds it: both without a lock timeout, watched. The lock timeout is set again after a success;
    /// after a failure, the migration's unlock resets it.
    /// </summary>
    private async Task BuildIndexAsync(string statement, string index, CancellationToken cancellationToken)
    {
        await ExecuteAsync("SET lock_timeout = 0", cancellationToken).ConfigureAwait(false);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watch = report is null
            ? Task.CompletedTask
            : ConcurrentIndexWatch.RunAsync(dataSource, connection.ProcessID, schema, migration.Name, index, report, watching.Token);
        try
        {
            if (await IsInvalidAsync(index, cancellationToken).ConfigureAwait(false))
            {
                await ExecuteAsync("DROP INDEX CONCURRENTLY IF EXISTS " + index, cancellationToken).ConfigureAwait(false);
            }

            await ExecuteAsync(statement, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await watching.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await ExecuteAsync($"SET lock_timeout = {((long)lockTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}", cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task<bool> IsInvalidAsync(string index, CancellationToken cancellationToken)
    {
        var check = new NpgsqlCommand(MigrationSql.IndexInvalid, connection) { CommandTimeout = 0 };
        await using var checkDisposal = check.ConfigureAwait(false);
        check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = index, NpgsqlDbType = NpgsqlDbType.Text });
        return await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    /// <summary>
    /// Runs <paramref name="sql"/> without the data source's <c>Command Timeout</c>: a concurrent build waits for old
    /// transactions as long as they stay open (Npgsql's 30 s default cancelled it, leaving the index invalid), and the
    /// other statements keep the lock timeout.
    /// </summary>
    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await using var commandDisposal = command.ConfigureAwait(false);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
