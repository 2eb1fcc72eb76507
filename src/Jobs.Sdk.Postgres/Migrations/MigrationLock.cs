using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The migrations' session advisory lock (<see cref="PostgresJobMigrations.LockKey"/>): taken before anything pending is
/// applied, with the session's timeouts the migration runs under, and released after it, so that many processes starting
/// at once apply the pending migrations once.
/// </summary>
internal static class MigrationLock
{
    /// <summary>
    /// First a check that the connection reaches PostgreSQL directly (<see cref="MigrationSql.DirectOnly"/>: behind a
    /// pooler the batch fails before it sets or locks anything). Then the DDL's lock timeout and a first try of the session
    /// advisory lock: one round trip. The session's <c>statement_timeout</c> is lifted first, until <see cref="UnlockAsync"/>:
    /// a role's timeout (<c>ALTER ROLE app SET statement_timeout = '30s'</c>) would otherwise cancel a long migration and
    /// fail the process's start.
    /// </summary>
    /// <remarks>
    /// While another process holds the lock (it is migrating), the lock is tried again after 50 ms, then at doubling
    /// intervals up to 1 s, for as long as it takes, instead of waiting in <c>pg_advisory_lock</c>: a statement waiting
    /// there holds a snapshot, and a <c>CREATE INDEX CONCURRENTLY</c> of the holder's migration waits for every older
    /// snapshot of its database, so the two waited for each other until PostgreSQL aborted one with 40P01 (every deploy
    /// that started several processes at once while an index migration was pending).
    /// </remarks>
    public static async Task LockAsync(NpgsqlConnection connection, string schema, TimeSpan lockTimeout, CancellationToken cancellationToken)
    {
        var key = PostgresJobMigrations.LockKey(schema);
        bool locked;
        var batch = new NpgsqlBatch(connection);
        await using (batch.ConfigureAwait(false))
        {
            batch.BatchCommands.Add(PostgresCommands.Command(MigrationSql.DirectOnly, new NpgsqlParameter<int> { TypedValue = connection.ProcessID }));
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SET statement_timeout = 0"));
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SET lock_timeout = {((long)lockTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}"));
            batch.BatchCommands.Add(PostgresCommands.Command(MigrationSql.SessionTryLock,
                new NpgsqlParameter<long> { TypedValue = key, NpgsqlDbType = NpgsqlDbType.Bigint }));
            locked = await ReadLockedAsync(batch, cancellationToken).ConfigureAwait(false);
        }

        var delay = TimeSpan.FromMilliseconds(50);
        while (!locked)
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.TicksPerSecond));
            var retry = new NpgsqlBatch(connection);
            await using (retry.ConfigureAwait(false))
            {
                retry.BatchCommands.Add(PostgresCommands.Command(MigrationSql.SessionTryLock,
                    new NpgsqlParameter<long> { TypedValue = key, NpgsqlDbType = NpgsqlDbType.Bigint }));
                locked = await ReadLockedAsync(retry, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The result of the batch's <see cref="MigrationSql.SessionTryLock"/> (its last command).</summary>
    private static async Task<bool> ReadLockedAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        var locked = false;
        var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            do
            {
                if (reader.FieldCount == 1 && reader.GetFieldType(0) == typeof(bool) && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    locked = reader.GetBoolean(0);
                }
            }
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
        }

        return locked;
    }

    /// <summary>
    /// Resets the lock and statement timeouts and releases the session advisory lock, in one round trip; after a failure, first ends the
    /// transaction it may have left open (a <c>ROLLBACK</c> outside one only warns, as does an unlock not held).
    /// </summary>
    public static async Task UnlockAsync(NpgsqlConnection connection, string schema, bool rollback)
    {
        var batch = new NpgsqlBatch(connection);
        await using var batchDisposal = batch.ConfigureAwait(false);
        if (rollback)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("ROLLBACK"));
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand("RESET lock_timeout"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("RESET statement_timeout"));
        batch.BatchCommands.Add(PostgresCommands.Command(MigrationSql.SessionUnlock,
            new NpgsqlParameter<long> { TypedValue = PostgresJobMigrations.LockKey(schema), NpgsqlDbType = NpgsqlDbType.Bigint }));
        await batch.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
