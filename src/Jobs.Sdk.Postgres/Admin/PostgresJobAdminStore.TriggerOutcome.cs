using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

// Keeps a schedule trigger's answer true when its connection breaks after it was sent, as a push does (PostgresPushOutcome).
public sealed partial class PostgresJobAdminStore
{
    private static readonly TimeSpan TriggerSettleTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan TriggerEndSessionWait = TimeSpan.FromSeconds(5);

    /// <summary>The queues in which the jobs of ids $1 are stored (a trigger's jobs, one per queue).</summary>
    private const string TriggeredQueuesSql = "SELECT queue_name FROM {s}.jobs WHERE id = ANY($1)";

    /// <summary>
    /// Whether <paramref name="error"/> of a trigger on <paramref name="connection"/> leaves its outcome open: the connection
    /// broke after the statements were sent (its answer, if any, lost), on an error of the connection or the caller's cancellation.
    /// </summary>
    private static bool Unanswered(Exception error, NpgsqlConnection connection, CancellationToken cancellationToken) =>
        connection.FullState == ConnectionState.Broken && error switch
        {
            OperationCanceledException => cancellationToken.IsCancellationRequested,
            NpgsqlException => true,
            _ => false,
        };

    /// <summary>
    /// Settles a trigger of <paramref name="entryKey"/> whose answer was lost: ends its session <paramref name="session"/>
    /// (nothing it was sent can commit after that), then reads which of its jobs <paramref name="ids"/> are stored, on a fresh
    /// connection, and wakes their queues. Returns the channels woken (one per job pushed). Throws a <see cref="JobsException"/>
    /// naming the job when the database cannot tell within <see cref="TriggerSettleTimeout"/>, so that an operator looks before
    /// triggering again (a second trigger would push the entry's job twice).
    /// </summary>
    private async Task<List<(string Channel, string Payload)>> SettleTriggerAsync(string entryKey, Guid[] ids, int session, Exception unanswered)
    {
        var failure = unanswered;
        using var timeout = new CancellationTokenSource(TriggerSettleTimeout);
        for (var pause = TimeSpan.FromMilliseconds(100); ; pause = pause * 2 < TimeSpan.FromSeconds(2) ? pause * 2 : TimeSpan.FromSeconds(2))
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(timeout.Token).ConfigureAwait(false);
                await using (var end = new NpgsqlCommand(PushOutcomeSql.EndSession, connection))
                {
                    end.Parameters.Add(SqlParameters.Integer(session));
                    end.Parameters.Add(SqlParameters.Integer((int)TriggerEndSessionWait.TotalMilliseconds));
                    if (await end.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false) is not true)
                    {
                        break; // the session still runs: what it was sent may yet commit
                    }
                }

                var pushed = new List<(string Channel, string Payload)>();
                await using (var find = new NpgsqlCommand(Sub(TriggeredQueuesSql), connection))
                {
                    find.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
                    await using var reader = await find.ExecuteReaderAsync(timeout.Token).ConfigureAwait(false);
                    while (await reader.ReadAsync(timeout.Token).ConfigureAwait(false))
                    {
                        pushed.Add((PostgresNotifier.ChannelName(Schema, reader.GetString(0)), ""));
                    }
                }

                await NotifyAsync(connection, pushed, timeout.Token).ConfigureAwait(false);
                return pushed;
            }
            catch (NpgsqlException ex) when (ex is not PostgresException && !timeout.IsCancellationRequested)
            {
                failure = ex; // the server restarting, a stale pooled connection: try again shortly
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

        throw new JobsException($"The trigger of schedule entry '{entryKey}' was sent, but its connection broke before the answer came and " +
            $"the database could not tell whether it pushed job {new JobId(ids[0])}: look it up (`jobs show {new JobId(ids[0])}`) before " +
            $"triggering again, or the entry's job may run twice. {failure.Message}", failure);
    }
}
