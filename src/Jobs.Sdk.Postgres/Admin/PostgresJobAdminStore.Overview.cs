using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

// The queue list summed up for the dashboard's overview (AdminOverviewSql): a few rows, not the list.
public sealed partial class PostgresJobAdminStore : IAdminQueueOverview
{
    /// <inheritdoc />
    /// <remarks>
    /// Two round trips: the database's clock, the totals, the counts, the oldest due job and the busiest queues' names in
    /// one batch, then those queues' details (<see cref="ReadQueueListAsync"/>); each statement its own snapshot, as the
    /// statements of the whole list are.
    /// </remarks>
    async Task<QueueOverview> IAdminQueueOverview.GetQueueOverviewAsync(int busiest, CancellationToken cancellationToken)
        => await ReadAsync(async connection =>
        {
            var totals = new List<KeyValuePair<JobState, long>>(7);
            var names = new List<string>(busiest);
            DateTimeOffset now;
            DateTimeOffset? oldest;
            long queueCount, pausedCount;
            var batch = new NpgsqlBatch(connection);
            await using (batch.ConfigureAwait(false))
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(Sub(AdminSql.DatabaseNow)));
                batch.BatchCommands.Add(new NpgsqlBatchCommand(Sub(AdminOverviewSql.Totals)));
                batch.BatchCommands.Add(new NpgsqlBatchCommand(Sub(AdminOverviewSql.QueueCounts)));
                batch.BatchCommands.Add(new NpgsqlBatchCommand(Sub(AdminOverviewSql.OldestWaiting)));
                batch.BatchCommands.Add(PostgresCommands.Command(Sub(AdminOverviewSql.Busiest),
                    new NpgsqlParameter<int> { TypedValue = busiest, NpgsqlDbType = NpgsqlDbType.Integer }));

                var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using var readerDisposal = reader.ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                now = reader.GetFieldValue<DateTimeOffset>(0);

                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    totals.Add(new((JobState)reader.GetInt16(0), reader.GetInt64(1)));
                }

                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                (queueCount, pausedCount) = (reader.GetInt64(0), reader.GetInt64(1));

                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                oldest = reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTimeOffset>(0);

                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    names.Add(reader.GetString(0));
                }
            }

            IReadOnlyList<QueueInfo> queues = names.Count == 0 ? [] : await ReadQueueListAsync(connection, [.. names], cancellationToken).ConfigureAwait(false);
            return new QueueOverview(JobCounts.From(totals), (int)queueCount, (int)pausedCount,
                oldest is { } o ? (now - o < TimeSpan.Zero ? TimeSpan.Zero : now - o) : null, queues);
        }, cancellationToken).ConfigureAwait(false);
}
