using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <content>Throughput: workers' finished jobs per minute (<c>{schema}.throughput</c>).</content>
public sealed partial class PostgresJobAdminStore
{
    /// <inheritdoc />
    public async Task ReportThroughputAsync(JobThroughputReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Minutes.Count == 0)
        {
            return;
        }

        await WriteAsync(connection => ReportThroughputOnAsync(connection, report, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private async Task ReportThroughputOnAsync(NpgsqlConnection connection, JobThroughputReport report, CancellationToken cancellationToken)
    {
        var n = report.Minutes.Count;
        var minutes = new DateTime[n];
        var queues = new string[n];
        var completed = new int[n];
        var failed = new int[n];
        for (var i = 0; i < n; i++)
        {
            var m = report.Minutes[i];
            (minutes[i], queues[i], completed[i], failed[i]) = (m.Minute.UtcDateTime, m.QueueName, m.Completed, m.Failed);
        }

        var command = new NpgsqlCommand(Sub(AdminSql.ReportThroughput), connection);
        await using var commandDisposal = command.ConfigureAwait(false);
        command.Parameters.Add(Text(report.WorkerId));
        command.Parameters.Add(Array(minutes, NpgsqlDbType.TimestampTz));
        command.Parameters.Add(Array(queues, NpgsqlDbType.Text));
        command.Parameters.Add(Array(completed, NpgsqlDbType.Integer));
        command.Parameters.Add(Array(failed, NpgsqlDbType.Integer));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<JobThroughputMinute>> GetThroughputAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
        => ReadRowsAsync(Sub(AdminSql.GetThroughput), [Timestamp(from), Timestamp(to)],
            static reader => new JobThroughputMinute(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3)),
            cancellationToken);
}
