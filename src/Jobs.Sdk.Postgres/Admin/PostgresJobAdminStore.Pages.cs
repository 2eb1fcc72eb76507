using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

// Pages of the queue and schedule lists of the PostgreSQL admin store (AdminPageSql): a page and a count, not the list.
public sealed partial class PostgresJobAdminStore : IPagedAdminCatalogs
{
    /// <inheritdoc />
    /// <remarks>
    /// Two round trips: the page's names and the total (<see cref="AdminPageSql.QueueNames"/>), then the page's details
    /// (<see cref="ReadQueueListAsync"/>), each its own snapshot as the statements of the whole list are: a queue whose jobs
    /// went in between is listed with counts of 0.
    /// </remarks>
    async Task<(IReadOnlyList<QueueInfo> Queues, int Total)> IPagedAdminCatalogs.GetQueuePageAsync(string? after, int take, CancellationToken cancellationToken)
        => await ReadAsync(async connection =>
        {
            var names = new List<string>(take);
            long total = 0;
            var command = new NpgsqlCommand(Sub(AdminPageSql.QueueNames), connection);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(JobQuerySql.Text(after ?? ""));
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = take, NpgsqlDbType = NpgsqlDbType.Integer });
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using var readerDisposal = reader.ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    total = reader.GetInt64(1);
                    if (!reader.IsDBNull(0))
                    {
                        names.Add(reader.GetString(0));
                    }
                }
            }

            IReadOnlyList<QueueInfo> page = names.Count == 0 ? [] : await ReadQueueListAsync(connection, [.. names], cancellationToken).ConfigureAwait(false);
            return (page, (int)total);
        }, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    Task<IReadOnlyList<ScheduleInfo>> IPagedAdminCatalogs.GetSchedulePageAsync((string Queue, string Key)? after, int take, CancellationToken cancellationToken)
        => ReadRowsAsync(Sub(AdminPageSql.SchedulePage),
            [JobQuerySql.Text(after?.Queue ?? ""), JobQuerySql.Text(after?.Key ?? ""), new NpgsqlParameter<int> { TypedValue = take, NpgsqlDbType = NpgsqlDbType.Integer }],
            ReadSchedule, cancellationToken);
}
