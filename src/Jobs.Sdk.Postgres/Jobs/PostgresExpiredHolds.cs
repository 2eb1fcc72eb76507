using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Retention for finished unique jobs kept only while their key holds (<c>UniqueFor</c>): run with each worker's rescue pass,
/// it deletes those whose hold is over in the states retention drops (<see cref="UniqueJobSql.DropExpiredHolders"/>; a job
/// an operator's cancel kept for inspection is kept, its key released), so a queue whose keys never come back (one per
/// order, say) does not keep every job it ever finished.
/// </summary>
internal sealed class PostgresExpiredHolds(PostgresQueueContext context, RetentionPolicy retention)
{
    /// <summary>Batches one state may take in one pass (each of <see cref="UniqueJobSql.ExpiredHoldersBatch"/> rows).</summary>
    private const int MaxBatchesPerPass = 10;

    private readonly string _dropSql = context.Sql(UniqueJobSql.DropExpiredHolders);

    private readonly JobState[] _dropped = Dropped(retention);

    /// <summary>Deletes the expired holders of the states retention drops; returns how many.</summary>
    public async Task<long> DropAsync(CancellationToken cancellationToken)
    {
        long dropped = 0;
        foreach (var state in _dropped)
        {
            for (var batch = 0; batch < MaxBatchesPerPass; batch++)
            {
                // Without sequential scans: a plan its session built on a young queue's table read the whole table at every batch.
                var (seen, deleted, released) = await context.Commands.QueryAsync(_dropSql,
                    [Text(context.Queue), Smallint((short)state), Integer(UniqueJobSql.ExpiredHoldersBatch)], SqlRun.Prepare | SqlRun.Maintenance | SqlRun.NoSeqScan,
                    static async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) ? (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)) : (0L, 0L, 0L),
                    cancellationToken).ConfigureAwait(false);
                dropped += deleted;

                // Go on only while a whole batch was over its hold (deleted, or released when an operator's cancel kept
                // the job): the oldest rows are where holds end first.
                if (seen < UniqueJobSql.ExpiredHoldersBatch || deleted + released < seen)
                {
                    break;
                }
            }
        }

        return dropped;
    }

    /// <summary>The finished states whose jobs retention deletes (a unique one once its hold is over).</summary>
    private static JobState[] Dropped(RetentionPolicy retention)
    {
        var states = new List<JobState>(3);
        if (retention.CompletedJobs == Retain.No)
        {
            states.Add(JobState.Completed);
        }

        if (retention.FailedJobs == Retain.No)
        {
            states.Add(JobState.Failed);
        }

        if (retention.CancelledJobs == Retain.No)
        {
            states.Add(JobState.Cancelled);
        }

        return [.. states];
    }
}
