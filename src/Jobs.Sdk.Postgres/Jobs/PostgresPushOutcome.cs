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
/// for 15 s, <see cref="LostAnswer"/>): <see cref="JobPushOutcomeUnknownException"/>.
/// <para>
/// Not ambiguous, so not settled: an error of the server on a live connection (the statement failed, and outside a
/// caller's transaction rolled back), a failure to open the connection (nothing was sent), and an answered cancellation.
/// A fatal server error is settled, as it ends the session: PostgreSQL may end one after its commit (an administrator or
/// a shutdown ending a session that waits for a synchronous standby). Costs nothing on a push that gets its answer.
/// </para>
/// </summary>
internal sealed class PostgresPushOutcome(PostgresQueueContext context)
{

    private readonly string _storedSql = context.Sql(PushOutcomeSql.Stored);

    /// <summary>
    /// Runs <paramref name="push"/> (of <paramref name="jobs"/>, one transaction) on a pooled connection of its own (once
    /// more on a new one when the server had ended it while it idled: nothing was run, <see cref="IdleSessionRetry"/>); when
    /// its connection broke before the answer came (see <see cref="LostAnswer.Unanswered"/>), returns <paramref name="stored"/> if the
    /// jobs turn out stored.
    /// </summary>
    public Task<T> RunAsync<T>(IReadOnlyList<JobPushRecord> jobs, Func<NpgsqlConnection, Task<T>> push, Func<T> stored,
        CancellationToken cancellationToken)
        => IdleSessionRetry.RunAsync(context.Commands.DataSource, async (connection, _) =>
        {
            var session = connection.ProcessID;
            try
            {
                return await push(connection).ConfigureAwait(false);
            }
            catch (Exception ex) when (!IdleSessionRetry.SessionEnded(ex) && LostAnswer.Unanswered(ex, connection, cancellationToken))
            {
                if (await StoredAsync(jobs, session, ex).ConfigureAwait(false))
                {
                    return stored();
                }

                throw;
            }
        }, cancellationToken);

    /// <summary>
    /// Ends session <paramref name="session"/> and tells whether <paramref name="jobs"/> are stored (<see cref="LostAnswer.SettleAsync"/>);
    /// throws <see cref="JobPushOutcomeUnknownException"/> when the database cannot tell.
    /// </summary>
    private async Task<bool> StoredAsync(IReadOnlyList<JobPushRecord> jobs, int session, Exception unanswered)
    {
        var ids = new Guid[jobs.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = jobs[i].Id.Value;
        }

        var (settled, stored, failure) = await LostAnswer.SettleAsync(context.Commands.DataSource, session, unanswered, async (connection, ct) =>
        {
            var command = new NpgsqlCommand(_storedSql, connection);
            await using var commandDisposal = command.ConfigureAwait(false);
            command.Parameters.Add(Array(ids, NpgsqlDbType.Uuid));
            return (long)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))! > 0;
        }).ConfigureAwait(false);
        return settled ? stored : throw new JobPushOutcomeUnknownException([.. jobs.Select(j => j.Id)], failure);
    }
}
