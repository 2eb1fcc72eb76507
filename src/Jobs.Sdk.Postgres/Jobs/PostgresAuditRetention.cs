using Npgsql;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Retention of the admin audit log (<see cref="RetentionPolicy.AuditLog"/>): run with each worker's rescue pass, it deletes
/// the entries older than the retention in bounded batches (<see cref="AuditRetentionSql"/>), so a store operated for years
/// does not keep every admin action it ever saw. The log is shared by the store's queues; any queue's pass prunes it.
/// </summary>
internal sealed class PostgresAuditRetention(PostgresQueueContext context, RetentionPolicy retention)
{
    /// <summary>Batches one pass may take (a backlog, e.g. on the first pass after an upgrade, goes over several passes).</summary>
    private const int MaxBatchesPerPass = 10;

    private readonly string _deleteSql = context.Sql(AuditRetentionSql.DeleteOld);

    /// <summary>Deletes the entries older than the retention, at most <see cref="MaxBatchesPerPass"/> batches; returns how many.</summary>
    public async Task<long> PruneAsync(CancellationToken cancellationToken)
    {
        if (retention.AuditLog == Timeout.InfiniteTimeSpan)
        {
            return 0;
        }

        try
        {
            return await DeleteOlderThanAsync(retention.AuditLog, MaxBatchesPerPass, batchDeleted: null, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // A worker role without DELETE on the audit log: the log is kept (an operator's role, or a worker with the right, prunes it).
            return 0;
        }
    }

    /// <summary>
    /// Deletes the entries recorded more than <paramref name="age"/> ago, oldest first, in batches of
    /// <see cref="AuditRetentionSql.BatchSize"/> (each its own transaction) until one comes short or
    /// <paramref name="maxBatches"/> ran; returns how many. An operator's prune (<c>jobs audit prune</c>) takes every batch,
    /// and hears each committed batch's count through <paramref name="batchDeleted"/> (a failure loses only the running one).
    /// </summary>
    public async Task<long> DeleteOlderThanAsync(TimeSpan age, int maxBatches, Action<long>? batchDeleted, CancellationToken cancellationToken)
    {
        long deleted = 0;
        for (var batch = 0; batch < maxBatches; batch++)
        {
            var n = await context.Commands.ExecuteAsync(_deleteSql,
                [Double(age.TotalMilliseconds), Integer(AuditRetentionSql.BatchSize)], SqlRun.Prepare | SqlRun.Maintenance, cancellationToken)
                .ConfigureAwait(false);
            deleted += n;
            batchDeleted?.Invoke(n);
            if (n < AuditRetentionSql.BatchSize)
            {
                break;
            }
        }

        return deleted;
    }
}
