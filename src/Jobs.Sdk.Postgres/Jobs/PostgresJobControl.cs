using Jobs.Sdk.Drivers;
using Npgsql;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>What users do to jobs by id: cancel, pause, resume, look up (counts: <see cref="PostgresJobCounts"/>, <see cref="PostgresCountsByName"/>; cleanup: <see cref="PostgresCleanup"/>).</summary>
internal sealed class PostgresJobControl(PostgresQueueContext context, bool removeCancelled)
{
    private readonly string _cancelSql = context.Sql(JobSql.Cancel);
    private readonly string _pauseSql = context.Sql(JobSql.Pause);
    private readonly string _resumeSql = context.Sql(JobSql.Resume);
    private readonly string _getJobSql = context.Sql(JobSql.GetJob);
    private readonly string _waitingNamesSql = context.Sql(JobSql.GetWaitingNames);

    public async Task<bool> CancelAsync(JobId id, CancellationToken cancellationToken)
    {
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        // Not prepared: planned for each execution on the table's size then, also when Npgsql prepares statements on its
        // own (SqlRun.CustomPlan: Max Auto Prepare). Prepared, PostgreSQL switched it to a generic plan built while the
        // table's statistics said it was small: every cancel read the whole table until the next ANALYZE.
        var (found, previous, leaseToken) = await context.Commands.QueryAsync(_cancelSql,
            [Text(context.Queue), Uuid(id.Value), Boolean(removeCancelled), Text(context.Channel)], SqlRun.CustomPlan,
            static async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false)
                ? (true, reader.GetInt16(0), reader.IsDBNull(1) ? Guid.Empty : reader.GetGuid(1))
                : (false, (short)0, Guid.Empty), cancellationToken).ConfigureAwait(false);
        if (!found)
        {
            return false;
        }

        if (previous == (short)JobState.Processing)
        {
            // No NOTIFY in poll-only mode: tell this process's workers directly; others learn it at lease renewal.
            context.Notifier.CancelRequested(new JobLease(id, leaseToken));
        }

        return true;
    }

    public async Task<bool> PauseAsync(JobId id, CancellationToken cancellationToken)
    {
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        // Planned for each execution, as cancel is (SqlRun.CustomPlan): a generic plan built on a young queue's statistics
        // read the whole table at every call once the queue had grown.
        return await context.Commands.ExecuteAsync(_pauseSql, [Text(context.Queue), Uuid(id.Value)], SqlRun.CustomPlan, cancellationToken)
            .ConfigureAwait(false) > 0;
    }

    public async Task<bool> ResumeAsync(JobId id, CancellationToken cancellationToken)
    {
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        // Planned for each execution, as cancel is (SqlRun.CustomPlan).
        var resumed = (long)(await context.Commands.ScalarAsync(_resumeSql, [Text(context.Queue), Uuid(id.Value), Text(context.Channel)],
            SqlRun.CustomPlan, cancellationToken).ConfigureAwait(false))! > 0;
        if (resumed)
        {
            context.Notifier.JobsDue();
        }

        return resumed;
    }

    public async Task<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken)
    {
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        // Planned for each execution, as cancel is (SqlRun.CustomPlan).
        return await context.Commands.QueryAsync(_getJobSql, [Text(context.Queue), Uuid(id.Value)], SqlRun.CustomPlan,
            static async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) ? JobRows.ReadInfo(reader) : null,
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<WaitingJobName>> GetWaitingNamesAsync(TimeSpan dueFor, CancellationToken cancellationToken)
    {
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        // Without sequential scans: statistics taken while the table was small sent it to one even unprepared (and to a
        // generic plan that kept it, with Max Auto Prepare); the runnable index serves it at any size.
        return await context.Commands.QueryAsync(_waitingNamesSql, [Text(context.Queue), Double(Math.Max(0, dueFor.TotalMilliseconds))], SqlRun.NoSeqScan,
            static async (reader, ct) =>
            {
                var result = new List<WaitingJobName>();
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    result.Add(new WaitingJobName(reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2)));
                }

                return (IReadOnlyList<WaitingJobName>)result;
            }, cancellationToken).ConfigureAwait(false);
    }
}
