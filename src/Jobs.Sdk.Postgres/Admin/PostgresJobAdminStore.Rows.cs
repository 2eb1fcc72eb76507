using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <content>The catalog reads' one shape: a statement on a connection of its own, every row read into a list.</content>
public sealed partial class PostgresJobAdminStore
{
    private async Task<IReadOnlyList<T>> ReadRowsAsync<T>(string sql, NpgsqlParameter[] parameters, Func<NpgsqlDataReader, T> readRow,
        CancellationToken cancellationToken)
    {
        var list = new List<T>();
        return await ReadAsync<IReadOnlyList<T>>(async connection =>
        {
            var command = new NpgsqlCommand(sql, connection);
            await using var commandDisposal = command.ConfigureAwait(false);
            command.Parameters.AddRange(parameters);
            try
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using var readerDisposal = reader.ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    list.Add(readRow(reader));
                }

                return list;
            }
            finally
            {
                command.Parameters.Clear(); // the caller's parameters: free for the read's second run on a new connection
            }
        }, cancellationToken).ConfigureAwait(false);
    }
}
