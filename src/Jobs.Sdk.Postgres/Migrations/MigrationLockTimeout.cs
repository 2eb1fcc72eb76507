using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// A migration's DDL gave up on a table lock after the migrations' <c>lock_timeout</c> (55P03): PostgreSQL's own message
/// ("canceling statement due to lock timeout") named neither the migration, nor the table, nor the session in the way, and
/// the host logged it as an unreachable server. This says which migrations waited, which sessions hold locks on the
/// schema's tables in transactions older than the wait (pid, application, state, transaction age, lock and table), and
/// what to do.
/// </summary>
internal static class MigrationLockTimeout
{
    /// <summary>Whether <paramref name="ex"/> is a migration that gave up on a table lock (thrown by <see cref="DescribeAsync"/>).</summary>
    public static bool Is(Exception ex) => ex is PostgresMigrationException { InnerException: PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable } };

    /// <summary>
    /// Ends the migrating session's failed transaction, reads the holders on it, and returns the exception to throw
    /// (<see cref="PostgresMigrationException"/>, inner <paramref name="timedOut"/>); <paramref name="timedOut"/> itself when
    /// the session cannot read them (its connection broke).
    /// </summary>
    public static async Task<Exception> DescribeAsync(NpgsqlConnection connection, string schema, string quoted, IReadOnlyList<PostgresMigration> migrations,
        TimeSpan lockTimeout, PostgresException timedOut)
    {
        List<(BlockingSession Session, string Locks)> holders;
        try
        {
            holders = await ReadHoldersAsync(connection, quoted, lockTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            return timedOut;
        }

        var seconds = lockTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append("Job queue migration ")
            .Append(migrations.Count == 0 ? "of the migrations table" : string.Join(", ", migrations.Select(m => m.Name)))
            .Append(" (schema '").Append(schema).Append("') waited ").Append(seconds)
            .Append(" s (its lock timeout) for a lock on a table of the schema and gave up, so as not to hold up the pushes and claims queued behind it; ")
            .Append("nothing of it was applied. ");
        if (holders.Count == 0)
        {
            sb.Append("No session holds a lock on the schema's tables in a transaction that old any more (it ended since).");
        }
        else
        {
            sb.Append("Sessions holding locks on the schema's tables in transactions open at least that long: ");
            for (var i = 0; i < holders.Count; i++)
            {
                var (session, locks) = holders[i];
                sb.Append(i == 0 ? "" : "; ").Append("pid ").Append(session.Pid.ToString(CultureInfo.InvariantCulture)).Append(" (");
                if (session.State is null)
                {
                    // Another role's session, and this role is not a member of pg_read_all_stats: pg_stat_activity hides the rest.
                    sb.Append("details hidden from this role");
                }
                else
                {
                    sb.Append("application '").Append(session.ApplicationName).Append("', ").Append(session.State);
                    if (session.TransactionAge is { } age)
                    {
                        sb.Append(", transaction open for ").Append(Math.Round(age.TotalSeconds).ToString(CultureInfo.InvariantCulture)).Append(" s");
                    }
                }

                sb.Append(": ").Append(locks).Append(')');
            }

            sb.Append(". Commit or end them (SELECT pg_terminate_backend(pid)), or apply the migration once they are done");
        }

        sb.Append(": a host tries it again by itself, and `jobs migrate` can be run again.");
        return new PostgresMigrationException(sb.ToString(), timedOut);
    }

    private static async Task<List<(BlockingSession, string)>> ReadHoldersAsync(NpgsqlConnection connection, string quoted, TimeSpan lockTimeout)
    {
        // The statement that timed out left its transaction aborted: end it first (outside one, ROLLBACK only warns).
        var rollback = new NpgsqlCommand("ROLLBACK", connection);
        await using (rollback.ConfigureAwait(false))
        {
            await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }

        var holders = new List<(BlockingSession, string)>();
        var command = new NpgsqlCommand(MigrationSql.TableLockHolders, connection);
        await using var commandDisposal = command.ConfigureAwait(false);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = quoted, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = lockTimeout.TotalMilliseconds, NpgsqlDbType = NpgsqlDbType.Double });
        var reader = await command.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                holders.Add((new BlockingSession(
                    reader.GetInt32(0),
                    reader.IsDBNull(1) ? null : reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : TimeSpan.FromSeconds(reader.GetDouble(3))), reader.GetString(4)));
            }
        }

        return holders;
    }
}
