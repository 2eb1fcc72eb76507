using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

// Keeps a schedule trigger's answer true when its connection breaks after it was sent, as a push does (PostgresPushOutcome).
public sealed partial class PostgresJobAdminStore
{
    /// <summary>The queues in which the jobs of ids $1 are stored (a trigger's jobs, one per queue).</summary>
    private const string TriggeredQueuesSql = "SELECT queue_name FROM {s}.jobs WHERE id = ANY($1)";

    /// <summary>
    /// Settles a trigger of <paramref name="entryKey"/> whose answer was lost (<see cref="LostAnswer.SettleAsync"/>): ends its
    /// session <paramref name="session"/>, reads which of its jobs <paramref name="ids"/> are stored and wakes their queues.
    /// Returns the channels woken (one per job pushed). Throws a <see cref="JobsException"/> naming the job when the database
    /// cannot tell, so that an operator looks before triggering again (a second trigger would push the entry's job twice).
    /// </summary>
    private async Task<List<(string Channel, string Payload)>> SettleTriggerAsync(string entryKey, Guid[] ids, int session, Exception unanswered)
    {
        var (settled, pushed, failure) = await LostAnswer.SettleAsync(_dataSource, session, unanswered, async (connection, ct) =>
        {
            var woken = new List<(string Channel, string Payload)>();
            var find = new NpgsqlCommand(Sub(TriggeredQueuesSql), connection);
            await using (find.ConfigureAwait(false))
            {
                find.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
                var reader = await find.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerDisposal = reader.ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    woken.Add((PostgresNotifier.ChannelName(Schema, reader.GetString(0)), ""));
                }
            }

            await NotifyAsync(connection, woken, ct).ConfigureAwait(false);
            return woken;
        }).ConfigureAwait(false);
        return settled ? pushed! : throw new JobsException($"The trigger of schedule entry '{entryKey}' was sent, but its connection broke before the answer came and " +
            $"the database could not tell whether it pushed job {new JobId(ids[0])}: look it up (`jobs show {new JobId(ids[0])}`) before " +
            $"triggering again, or the entry's job may run twice. {failure.Message}", failure);
    }
}
