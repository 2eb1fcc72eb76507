using Npgsql;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// A queue's per-state counts, from the delta rows the jobs table's triggers keep (see <see cref="CountSql"/>): a read
/// costs O(states + recent changes), never O(jobs), so the state gauge and the health check stay cheap at any size.
/// </summary>
internal sealed class PostgresJobCounts(PostgresQueueContext context)
{
    private readonly string _readSql = context.Sql(CountSql.Read);
    private readonly string _compactSql = context.Sql(CountSql.Compact);
    private readonly string _readAllSql = context.Sql(CountSql.ReadAll);

    public async Task<JobCounts> GetAsync(CancellationToken cancellationToken)
    {
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var (counts, deltas) = await context.Commands.QueryAsync(_readSql, [Text(context.Queue)], SqlRun.Prepare, static async (reader, ct) =>
        {
            var counts = new List<KeyValuePair<JobState, long>>(7);
            long deltas = 0;
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                if (reader.GetInt64(1) != 0)
                {
                    counts.Add(new((JobState)reader.GetInt16(0), reader.GetInt64(1)));
                }

                deltas += reader.GetInt64(2);
            }

            return (counts, deltas);
        }, cancellationToken).ConfigureAwait(false);
        if (deltas > CountSql.CompactAfter)
        {
            await CompactReadAsync(context.Queue, cancellationToken).ConfigureAwait(false);
        }

        return JobCounts.From(counts);
    }

    /// <summary>
    /// Per-state counts of every queue of the schema in one statement (<see cref="CountSql.ReadAll"/>, read by
    /// <see cref="QueueCountRows"/>), compacting each
    /// queue read from many delta rows as <see cref="GetAsync"/> does.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, JobCounts>> GetAllAsync(CancellationToken cancellationToken)
    {
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var rows = await context.Commands.QueryAsync(_readAllSql, [], SqlRun.Prepare, QueueCountRows.ReadAsync, cancellationToken).ConfigureAwait(false);
        foreach (var queue in rows.ToCompact)
        {
            await CompactReadAsync(queue, cancellationToken).ConfigureAwait(false);
        }

        return rows.All();
    }

    /// <summary>Folds the queue's delta rows when there are many (one statement; nothing happens when there are few).</summary>
    public Task CompactAsync(CancellationToken cancellationToken) => CompactAsync(context.Queue, cancellationToken);

    private async Task CompactAsync(string queue, CancellationToken cancellationToken)
    {
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        await context.Commands.ExecuteAsync(_compactSql, [Text(queue), Integer(CountSql.CompactAfter)], SqlRun.Prepare | SqlRun.Maintenance, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Compacts after a read found many delta rows of <paramref name="queue"/>.</summary>
    private async Task CompactReadAsync(string queue, CancellationToken cancellationToken)
    {
        try
        {
            await CompactAsync(queue, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ReadOnlySqlTransaction)
        {
            // A read-only role or server (a reporting process, a standby, an old primary after a failover: the refusal
            // cleared the pool): the counts read are right, the next read is only larger; a worker or a writer compacts.
        }
    }
}
