using System.Data;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// A connection that broke after its statements were sent (a push, a schedule trigger): the server may have committed what
/// it was sent, or may still commit it. <see cref="Unanswered"/> tells whether an error leaves the outcome open;
/// <see cref="SettleAsync"/> settles it on a fresh connection: it ends the lost session (nothing it was sent can commit after
/// that), then looks up what it stored.
/// </summary>
internal static class LostAnswer
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan EndSessionWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstRetryPause = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryPause = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether <paramref name="error"/> on <paramref name="connection"/> leaves the outcome open: the connection broke (its
    /// answer, if any, lost) on an error of the connection or the server, or on the caller's cancellation.
    /// </summary>
    public static bool Unanswered(Exception error, NpgsqlConnection connection, CancellationToken cancellationToken) =>
        connection.FullState == ConnectionState.Broken && error switch
        {
            OperationCanceledException => cancellationToken.IsCancellationRequested,
            NpgsqlException => true,
            _ => false,
        };

    /// <summary>
    /// Ends session <paramref name="session"/>, then runs <paramref name="lookUp"/> on the same fresh connection (a statement
    /// of its own, whose snapshot sees what the session committed before it ended). A connection that cannot be opened or
    /// breaks (the server restarting, a stale pooled connection) is tried again, with a short growing pause, for up to
    /// <see cref="SettleTimeout"/>; an error the server answers (say, a missing privilege) is not. Returns the look-up's
    /// value, or <c>Settled = false</c> with the last failure when the database could not tell (or the session still ran
    /// after <see cref="EndSessionWait"/>: what it was sent may yet commit).
    /// </summary>
    public static async Task<(bool Settled, T? Value, Exception Failure)> SettleAsync<T>(NpgsqlDataSource dataSource, int session, Exception unanswered,
        Func<NpgsqlConnection, CancellationToken, Task<T>> lookUp)
    {
        var failure = unanswered;
        using var timeout = new CancellationTokenSource(SettleTimeout);
        for (var pause = FirstRetryPause; ; pause = pause * 2 < MaxRetryPause ? pause * 2 : MaxRetryPause)
        {
            try
            {
                var connection = await dataSource.OpenConnectionRecheckingAsync(timeout.Token).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    var end = new NpgsqlCommand(PushOutcomeSql.EndSession, connection);
                    await using (end.ConfigureAwait(false))
                    {
                        end.Parameters.Add(SqlParameters.Integer(session));
                        end.Parameters.Add(SqlParameters.Integer((int)EndSessionWait.TotalMilliseconds));
                        if (await end.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false) is not true)
                        {
                            break;
                        }
                    }

                    return (true, await lookUp(connection, timeout.Token).ConfigureAwait(false), failure);
                }
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

        return (false, default, failure);
    }
}
