using System.Data;
using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Keeps a push's answer true when its caller's token fires after its statements were sent. Npgsql then asks the server
/// to cancel them: an answer (done, or cancelled and rolled back) is the truth. Without one (the cancel request was lost,
/// or no answer came within the connection's <c>Cancellation Timeout</c>) Npgsql breaks the connection and throws an
/// <see cref="OperationCanceledException"/>, yet the server may still commit what it was sent. Then the outcome is settled
/// on a fresh connection: the push's session is ended (nothing it was sent can commit after that) and its jobs looked
/// up. Stored: the push returns as if not cancelled. Not stored: the exception stands. Unsettled (the database out of
/// reach for <see cref="SettleTimeout"/>): <see cref="JobPushOutcomeUnknownException"/>.
/// </summary>
internal sealed class PostgresPushOutcome(PostgresQueueContext context)
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan EndSessionWait = TimeSpan.FromSeconds(5);

    private readonly string _storedSql = context.Sql(PushOutcomeSql.Stored);

    /// <summary>
    /// Runs <paramref name="push"/> (of <paramref name="jobs"/>, one transaction) on a pooled connection of its own; when
    /// it was cancelled without an answer, returns <paramref name="stored"/> if the jobs turn out stored.
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
            catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested && connection.FullState == ConnectionState.Broken)
            {
                if (await StoredAsync(jobs, session, ex).ConfigureAwait(false))
                {
                    return stored();
                }

                throw;
            }
        }
    }

    /// <summary>Ends session <paramref name="session"/> and tells whether <paramref name="jobs"/> are stored; throws when it cannot tell.</summary>
    private async Task<bool> StoredAsync(IReadOnlyList<JobPushRecord> jobs, int session, OperationCanceledException cancelled)
    {
        var ids = new Guid[jobs.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = jobs[i].Id.Value;
        }

        Exception failure = cancelled;
        try
        {
            using var timeout = new CancellationTokenSource(SettleTimeout);
            var commands = context.Commands;
            var gone = await commands.ScalarAsync(PushOutcomeSql.EndSession, [Integer(session), Integer((int)EndSessionWait.TotalMilliseconds)], SqlRun.None,
                timeout.Token).ConfigureAwait(false);
            if (gone is true)
            {
                // A statement of its own: its snapshot sees what the session committed before it ended.
                return (long)(await commands.ScalarAsync(_storedSql, [Array(ids, NpgsqlDbType.Uuid)], SqlRun.None, timeout.Token).ConfigureAwait(false))! > 0;
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            failure = ex;
        }

        throw new JobPushOutcomeUnknownException([.. jobs.Select(j => j.Id)], failure);
    }
}
