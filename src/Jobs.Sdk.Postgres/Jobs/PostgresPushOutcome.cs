using System.Data;
using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Keeps a push's answer true when its connection breaks after its statements were sent: the network drops, the server's
/// reply is lost, a proxy resets the connection, the server goes down between the commit and the reply, or Npgsql gives
/// up on a push its caller's token cancelled (no answer to the cancel request, or none within the connection's
/// <c>Cancellation Timeout</c>). The server may have committed what it was sent, or may still commit it. Then the outcome
/// is settled on a fresh connection: the push's session is ended (nothing it was sent can commit after that) and its jobs
/// looked up. Stored: the push returns as if nothing had happened. Not stored: the exception stands (the connection's
/// <see cref="NpgsqlException"/>, or the <see cref="OperationCanceledException"/>). Unsettled (the database out of reach
/// for <see cref="SettleTimeout"/>): <see cref="JobPushOutcomeUnknownException"/>.
/// <para>
/// Not ambiguous, so not settled: an error of the server on a live connection (the statement failed, and outside a
/// caller's transaction rolled back), a failure to open the connection (nothing was sent), and an answered cancellation.
/// A fatal server error is settled, as it ends the session: PostgreSQL may end one after its commit (an administrator or
/// a shutdown ending a session that waits for a synchronous standby). Costs nothing on a push that gets its answer.
/// </para>
/// </summary>
internal sealed class PostgresPushOutcome(PostgresQueueContext context)
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan EndSessionWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstRetryPause = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryPause = TimeSpan.FromSeconds(2);

    private readonly string _storedSql = context.Sql(PushOutcomeSql.Stored);

    /// <summary>
    /// Runs <paramref name="push"/> (of <paramref name="jobs"/>, one transaction) on a pooled connection of its own; when
    /// its connection broke before the answer came (see <see cref="Unanswered"/>), returns <paramref name="stored"/> if the
    /// jobs turn out stored.
    /// </summary>
    public async Task<T> RunAsync<T>(IReadOnlyList<JobPushRecord> jobs, Func<NpgsqlConnection, Task<T>> push, Func<T> stored,
        CancellationToken cancellationToken)
    {
        var connection = await context.Commands.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var session = connection.ProcessID;
            try
            {
                return await push(connection).ConfigureAwait(false);
            }
            catch (Exception ex) when (Unanswered(ex, connection, cancellationToken))
            {
                if (await StoredAsync(jobs, session, ex).ConfigureAwait(false))
                {
                    return stored();
                }

                throw;
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="error"/> of a push on <paramref name="connection"/> leaves its outcome open: the connection
    /// broke (its answer, if any, lost) on an error of the connection or the server, or on the caller's cancellation.
    /// </summary>
    private static bool Unanswered(Exception error, NpgsqlConnection connection, CancellationToken cancellationToken) =>
        connection.FullState == ConnectionState.Broken && error switch
        {
            OperationCanceledException => cancellationToken.IsCancellationRequested,
            NpgsqlException => true,
            _ => false,
        };

    /// <summary>
    /// Ends session <paramref name="session"/> and tells whether <paramref name="jobs"/> are stored; throws when it cannot
    /// tell within <see cref="SettleTimeout"/>. A connection that cannot be opened or breaks (the server restarting, a
    /// stale pooled connection) is tried again, with a short growing pause, until then: a restart that lost the push's
    /// answer usually ends well within it. An error the server answers (say, a missing privilege) is not tried again.
    /// </summary>
    private async Task<bool> StoredAsync(IReadOnlyList<JobPushRecord> jobs, int session, Exception unanswered)
    {
        var ids = new Guid[jobs.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = jobs[i].Id.Value;
        }

        var failure = unanswered;
        using var timeout = new CancellationTokenSource(SettleTimeout);
        for (var pause = FirstRetryPause; ; pause = pause * 2 < MaxRetryPause ? pause * 2 : MaxRetryPause)
        {
            try
            {
                var commands = context.Commands;
                var gone = await commands.ScalarAsync(PushOutcomeSql.EndSession, [Integer(session), Integer((int)EndSessionWait.TotalMilliseconds)],
                    SqlRun.None, timeout.Token).ConfigureAwait(false);
                if (gone is not true)
                {
                    break; // the session still runs after EndSessionWait: what it was sent may yet commit
                }

                // A statement of its own: its snapshot sees what the session committed before it ended.
                return (long)(await commands.ScalarAsync(_storedSql, [Array(ids, NpgsqlDbType.Uuid)], SqlRun.None, timeout.Token).ConfigureAwait(false))! > 0;
            }
            catch (NpgsqlException ex) when (ex is not PostgresException && !timeout.IsCancellationRequested)
            {
                failure = ex;
            }
            catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
            {
                failure = ex;
                break;
            }

            try
            {
                await Task.Delay(pause, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        throw new JobPushOutcomeUnknownException([.. jobs.Select(j => j.Id)], failure);
    }
}
