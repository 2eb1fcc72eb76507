using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// At the start of a host with workers: the transactions of the data source's sessions must be READ COMMITTED. The
/// worker's claims (<c>FOR UPDATE SKIP LOCKED</c>), lease renewals, outcome writes and rescues update rows that other
/// workers change at the same time, and rely on each statement seeing what was committed before it started; under a
/// <c>default_transaction_isolation</c> of REPEATABLE READ or SERIALIZABLE (set on the role, the database or the server,
/// or in the connection string's <c>Options</c>) they fail with serialization errors (40001) under load and are retried
/// with backoff: a stream of warnings and a slowed queue. Pinning the level per statement would cost every claim and
/// outcome a statement (<c>SET TRANSACTION</c> outside a transaction block also warns in the server log), so the start
/// fails instead, naming the setting and the fix. Pushes are not concerned (a host without workers is not checked): a
/// push in a REPEATABLE READ or SERIALIZABLE transaction is supported.
/// </summary>
internal static class WorkerIsolationCheck
{
    /// <summary>
    /// Reads the isolation level of a new transaction on <paramref name="dataSource"/> (one round trip) and throws
    /// <see cref="InvalidOperationException"/> when it is not READ COMMITTED (READ UNCOMMITTED, the same in PostgreSQL, is
    /// accepted). When the database cannot be reached, nothing is checked: the schema gate reports that and retries.
    /// </summary>
    public static async Task CheckAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        string? isolation;
        try
        {
            // Once more on a new connection when the server had ended the pooled one while it idled (IdleSessionRetry):
            // 57P05 is transient, and would skip the check.
            isolation = await IdleSessionRetry.RunAsync(dataSource, async (connection, _) =>
            {
                var command = new NpgsqlCommand("SELECT current_setting('transaction_isolation')", connection);
                await using var commandDisposal = command.ConfigureAwait(false);
                return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (PostgresRetry.IsTransient(ex))
        {
            return;
        }

        if (isolation is null or "read committed" or "read uncommitted")
        {
            return;
        }

        throw new InvalidOperationException(
            $"The job workers need READ COMMITTED transactions, and new transactions on their PostgreSQL data source are '{isolation}' " +
            "(default_transaction_isolation, set on the role, the database or the server, or in the connection string's Options). " +
            "Under it, concurrent claims, lease renewals and outcome writes fail with serialization errors (40001) and are retried: " +
            "a stream of warnings and a slowed queue. Give the jobs a data source of their own that pins READ COMMITTED: add " +
            @"Options=-c default_transaction_isolation=read\ committed to its connection string (your other connections keep their level), " +
            "or set it for the workers' role: ALTER ROLE <role> SET default_transaction_isolation = 'read committed'.");
    }
}
