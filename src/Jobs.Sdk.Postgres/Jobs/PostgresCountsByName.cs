using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// <see cref="JobQueue.GetCountsByNameAsync"/> on PostgreSQL: walks the queue state by state in bounded batches
/// (<see cref="CountByNameSql"/>), each its own short transaction, and adds them up. The counts are exact when nothing
/// changes meanwhile; on a busy queue they are as a sequence of snapshots gives them (a job that changes state between
/// two batches may be counted in both states, or in neither), which an operator's overview tolerates and a snapshot held
/// over a million rows would make every claim pay for.
/// </summary>
internal sealed class PostgresCountsByName(PostgresQueueContext context)
{
    private static readonly JobState[] SettledStates = [JobState.Completed, JobState.Failed, JobState.Cancelled, JobState.Paused];

    private readonly string _settledSql = context.Sql(CountByNameSql.Settled);
    private readonly string _runnableSql = context.Sql(CountByNameSql.Runnable);
    private readonly string _runningSql = context.Sql(CountByNameSql.Running);

    public async Task<IReadOnlyList<JobNameCounts>> GetAsync(CancellationToken cancellationToken)
    {
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var counts = new SortedDictionary<string, Dictionary<JobState, long>>(StringComparer.Ordinal);
        foreach (var priority in Enum.GetValues<JobPriority>())
        {
            await CountRunnableAsync(priority, counts, cancellationToken).ConfigureAwait(false);
        }

        // Each batch without sequential scans (SqlRun.NoSeqScan): with Max Auto Prepare, a generic plan built while the table
        // was small read the whole table at every batch; the batches read the queue's index ranges at any size.
        var running = await context.Commands.QueryAsync(_runningSql, [Text(context.Queue)], SqlRun.NoSeqScan, static async (reader, ct) =>
        {
            var rows = new List<(string, JobState, long)>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                rows.Add((reader.GetString(0), JobState.Processing, reader.GetInt64(1)));
            }

            return rows;
        }, cancellationToken).ConfigureAwait(false);
        Add(counts, running);
        foreach (var state in SettledStates)
        {
            await CountSettledAsync(state, counts, cancellationToken).ConfigureAwait(false);
        }

        return counts.Select(n => new JobNameCounts(n.Key, JobCounts.From(n.Value))).ToArray();
    }

    /// <summary>Counts the runnable rows of one priority, batch by batch in claim order.</summary>
    private async Task CountRunnableAsync(JobPriority priority, SortedDictionary<string, Dictionary<JobState, long>> counts, CancellationToken cancellationToken)
    {
        (DateTimeOffset? RunAt, Guid? Id) after = (null, null);
        (List<(string, JobState, long)> Rows, long Read, (DateTimeOffset?, Guid?) Last) batch;
        do
        {
            batch = await context.Commands.QueryAsync(_runnableSql,
                [Text(context.Queue), Smallint((short)priority), Timestamp(after.RunAt), Uuid(after.Id), Integer(CountByNameSql.BatchSize)], SqlRun.NoSeqScan,
                static async (reader, ct) =>
                {
                    (List<(string, JobState, long)> Rows, long Read, (DateTimeOffset?, Guid?) Last) read = ([], 0, (null, null));
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        read.Rows.Add((reader.GetString(0), (JobState)reader.GetInt16(1), reader.GetInt64(2)));
                        read = (read.Rows, reader.GetInt64(3), (new DateTimeOffset(reader.GetFieldValue<DateTime>(4)), reader.GetGuid(5)));
                    }

                    return read;
                }, cancellationToken).ConfigureAwait(false);
            Add(counts, batch.Rows);
            after = batch.Last;
        }
        while (batch.Read == CountByNameSql.BatchSize);
    }

    /// <summary>Counts the rows of a finished or paused state, batch by batch, newest id first.</summary>
    private async Task CountSettledAsync(JobState state, SortedDictionary<string, Dictionary<JobState, long>> counts, CancellationToken cancellationToken)
    {
        (List<(string, long)> Rows, long Read, Guid? Last) batch = ([], 0, null);
        do
        {
            batch = await context.Commands.QueryAsync(_settledSql,
                [Text(context.Queue), Smallint((short)state), Uuid(batch.Last), Integer(CountByNameSql.BatchSize)], SqlRun.NoSeqScan,
                static async (reader, ct) =>
                {
                    (List<(string, long)> Rows, long Read, Guid? Last) read = ([], 0, null);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        read.Rows.Add((reader.GetString(0), reader.GetInt64(1)));
                        read = (read.Rows, reader.GetInt64(2), reader.GetGuid(3));
                    }

                    return read;
                }, cancellationToken).ConfigureAwait(false);
            Add(counts, batch.Rows.Select(r => (r.Item1, state, r.Item2)));
        }
        while (batch.Read == CountByNameSql.BatchSize);
    }

    /// <summary>Adds a batch's counts (after its statement returned: a retried statement's rows are not added twice).</summary>
    private static void Add(SortedDictionary<string, Dictionary<JobState, long>> counts, IEnumerable<(string Name, JobState State, long Count)> rows)
    {
        foreach (var (name, state, count) in rows)
        {
            if (!counts.TryGetValue(name, out var states))
            {
                counts[name] = states = new Dictionary<JobState, long>(7);
            }

            states[state] = states.GetValueOrDefault(state) + count;
        }
    }
}
