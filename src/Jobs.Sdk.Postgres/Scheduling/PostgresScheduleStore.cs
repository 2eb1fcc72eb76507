using Jobs.Sdk.Drivers;
using Npgsql;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Exactly-once recurring fires: a fire is recorded in <c>schedule_fires</c> and its job stored in the same statement,
/// so of many scheduler nodes firing the same entry at the same time exactly one stores the job.
/// </summary>
internal sealed class PostgresScheduleStore(PostgresQueueContext context) : IJobScheduleStore
{
    private readonly string _lastFireSql = context.Sql(ScheduleSql.GetLastFireTime);
    private readonly string _pushScheduledSql = context.Sql(ScheduleSql.TryPushScheduled);

    public async Task<DateTimeOffset?> GetLastFireTimeAsync(string entryKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var value = await context.Commands.ScalarAsync(_lastFireSql, [Text(context.Queue), Text(entryKey)], SqlRun.None, cancellationToken)
            .ConfigureAwait(false);
        return value is DateTime time ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) : null;
    }

    public async Task<bool> TryPushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        ArgumentNullException.ThrowIfNull(job);
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlParameter[] parameters = [.. JobRows.Push(job, [Text(context.Queue), Text(entryKey), Timestamp(fireTime)], Text(context.Channel)), .. JobRows.Keys(job)];
        var stored = (long)(await context.Commands.ScalarAsync(_pushScheduledSql, parameters, SqlRun.Prepare, cancellationToken)
            .ConfigureAwait(false))! > 0;
        if (stored)
        {
            context.Notifier.JobsPushed([job], announce: false);
        }

        return stored;
    }
}
