using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The rows of <see cref="CountSql.ReadAll"/> (queue, state, total, delta rows), read one way for its two readers: the
/// state gauge's read of every queue (<see cref="PostgresJobCounts.GetAllAsync"/>) and the admin API's queue list
/// (<see cref="PostgresJobAdminStore.GetQueuesAsync"/>).
/// </summary>
internal sealed class QueueCountRows
{
    /// <summary>Every queue with delta rows: its states whose total is not 0 (none when every total is 0).</summary>
    private readonly Dictionary<string, List<KeyValuePair<JobState, long>>> _counts = new(StringComparer.Ordinal);

    /// <summary>How many delta rows made each queue's totals.</summary>
    private readonly Dictionary<string, long> _deltas = new(StringComparer.Ordinal);

    private QueueCountRows()
    {
    }

    /// <summary>Reads the rows of <see cref="CountSql.ReadAll"/> from <paramref name="reader"/>'s current result.</summary>
    public static async Task<QueueCountRows> ReadAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var rows = new QueueCountRows();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var queue = reader.GetString(0);
            if (!rows._counts.TryGetValue(queue, out var states))
            {
                rows._counts[queue] = states = new List<KeyValuePair<JobState, long>>(7);
            }

            if (reader.GetInt64(2) != 0)
            {
                states.Add(new((JobState)reader.GetInt16(1), reader.GetInt64(2)));
            }

            rows._deltas[queue] = rows._deltas.GetValueOrDefault(queue) + reader.GetInt64(3);
        }

        return rows;
    }

    /// <summary>The queues with jobs (a total that is not 0): the ones the counts list a queue for.</summary>
    public IEnumerable<string> QueuesWithJobs => _counts.Where(c => c.Value.Count > 0).Select(c => c.Key);

    /// <summary>The queues read from more than <see cref="CountSql.CompactAfter"/> delta rows: the ones to compact.</summary>
    public IEnumerable<string> ToCompact => _deltas.Where(d => d.Value > CountSql.CompactAfter).Select(d => d.Key);

    /// <summary>The counts of <paramref name="queue"/> (all 0 for a queue without delta rows).</summary>
    public JobCounts Of(string queue) => _counts.TryGetValue(queue, out var states) ? JobCounts.From(states) : new JobCounts();

    /// <summary>The counts of every queue with delta rows (all 0 for one whose jobs are gone, until its deltas are compacted).</summary>
    public IReadOnlyDictionary<string, JobCounts> All() => _counts.ToDictionary(c => c.Key, c => JobCounts.From(c.Value), StringComparer.Ordinal);
}
