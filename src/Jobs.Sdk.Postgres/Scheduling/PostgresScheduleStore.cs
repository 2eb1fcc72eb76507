using Jobs.Sdk.Drivers;
using Npgsql;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Exactly-once recurring fires: a fire is recorded in <c>schedule_fires</c> and its job stored in the same statement,
/// so of many scheduler nodes firing the same entry at the same time exactly one stores the job. A unique job is stored
/// only when its key is free, as a unique push (<see cref="UniqueJobSql"/>): the key's expired holder is released first,
/// in the same transaction, and the insert yields on conflict with the key's holder; the fire is recorded either way.
/// </summary>
internal sealed class PostgresScheduleStore(PostgresQueueContext context, RetentionPolicy retention) : IJobScheduleStore
{
    private readonly string _lastFireSql = context.Sql(ScheduleSql.GetLastFireTime);
    private readonly string _lastFiresSql = context.Sql(ScheduleSql.GetLastFireTimes);
    private readonly string _pushScheduledSql = context.Sql(ScheduleSql.TryPushScheduled);
    private readonly string _releaseUniqueSql = context.Sql(UniqueJobSql.Release);
    private readonly string _uniqueHolderSql = context.Sql(ScheduleSql.UniqueHolder);

    /// <summary>The transaction-local settings in front of a unique fire's release (<see cref="SqlRun.NoSeqScan"/>).</summary>
    private static readonly string NoSeqScan = JobSql.TransactionSettings(asynchronousCommit: false, genericPlan: false, maintenance: false, noSeqScan: true)!;

    public async Task<DateTimeOffset?> GetLastFireTimeAsync(string entryKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var value = await context.Commands.ScalarAsync(_lastFireSql, [Text(context.Queue), Text(entryKey)], SqlRun.None, cancellationToken)
            .ConfigureAwait(false);
        return value is DateTime time ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) : null;
    }

    /// <summary>The server's clock (<c>clock_timestamp()</c>), which decides when pushed jobs are due.</summary>
    public async Task<DateTimeOffset> GetStoreTimeAsync(CancellationToken cancellationToken)
    {
        var value = await context.Commands.ScalarAsync(ScheduleSql.StoreTime, [], SqlRun.None, cancellationToken).ConfigureAwait(false);
        return new DateTimeOffset(DateTime.SpecifyKind((DateTime)value!, DateTimeKind.Utc));
    }

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> GetLastFireTimesAsync(IReadOnlyList<string> entryKeys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entryKeys);
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        return await context.Commands.QueryAsync<IReadOnlyDictionary<string, DateTimeOffset>>(_lastFiresSql,
            [Text(context.Queue), Array(entryKeys as string[] ?? [.. entryKeys], NpgsqlTypes.NpgsqlDbType.Text)], SqlRun.None, static async (reader, ct) =>
            {
                var last = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    if (!reader.IsDBNull(1))
                    {
                        last[reader.GetString(0)] = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc));
                    }
                }

                return last;
            }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> TryPushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
        => (await PushScheduledAsync(entryKey, fireTime, job, cancellationToken).ConfigureAwait(false)).Outcome == ScheduledFireOutcome.Pushed;

    public async Task<ScheduledFireResult> PushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        ArgumentNullException.ThrowIfNull(job);
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlParameter[] parameters =
        [
            .. JobRows.Push(job, [Text(context.Queue), Text(entryKey), Timestamp(fireTime)], Text(context.Channel)), .. JobRows.Keys(job),
            Text(job.UniqueKey), Double(job.UniqueFor.TotalMilliseconds),
        ];

        // A unique job: release its key first when the holder finished more than its unique_for ago, in the same round trip
        // and implicit transaction (the insert reads a snapshot taken after the release), as a unique push does.
        var (inserted, recorded, paused, holder) = job.UniqueKey is null
            ? await context.Commands.QueryAsync(_pushScheduledSql, parameters, SqlRun.Prepare, ReadAsync, cancellationToken).ConfigureAwait(false)
            : await ReleaseAndPushAsync(job.UniqueKey, parameters, cancellationToken).ConfigureAwait(false);

        if (inserted)
        {
            context.Notifier.JobsPushed([job], announce: false);
            return new ScheduledFireResult(ScheduledFireOutcome.Pushed, job.Id);
        }

        if (!recorded)
        {
            return new ScheduledFireResult(ScheduledFireOutcome.AlreadyRecorded, null);
        }

        if (paused || job.UniqueKey is null)
        {
            return new ScheduledFireResult(ScheduledFireOutcome.Paused, null);
        }

        // The key was held. The holder committed after the statement's snapshot was taken when it did not see it: read it
        // now (for the scheduler's log; it may have let the key go since). Unprepared, and never a generic plan when Npgsql
        // prepares it on its own (Max Auto Prepare: SqlRun.CustomPlan): one built while the table was small read the whole
        // table for the key.
        holder ??= await context.Commands.ScalarAsync(_uniqueHolderSql, [Text(context.Queue), Text(job.UniqueKey)], SqlRun.CustomPlan, cancellationToken)
            .ConfigureAwait(false) as Guid?;
        return new ScheduledFireResult(ScheduledFireOutcome.KeyHeld, holder is { } id ? new JobId(id) : null);
    }

    /// <summary>
    /// The release of the unique key and the scheduled push, in one round trip on a pooled connection; once more on a new
    /// connection when the server had ended the pooled one while it idled (<see cref="IdleSessionRetry"/>: nothing ran).
    /// </summary>
    private Task<(bool Inserted, bool Recorded, bool Paused, Guid? Holder)> ReleaseAndPushAsync(string uniqueKey, NpgsqlParameter[] parameters,
        CancellationToken cancellationToken)
    {
        NpgsqlBatchCommand? push = null;
        return IdleSessionRetry.RunAsync(context.Commands.DataSource, async (connection, again) =>
        {
            var batch = new NpgsqlBatch(connection);
            await using var batchDisposal = batch.ConfigureAwait(false);
            // The release looks the key's holder up (by unique key): planned without sequential scans, as a keyed push's
            // admission (SqlRun.NoSeqScan), since the fire is prepared and its session keeps the generic plan built on the
            // table's statistics of that moment (built on a young queue's, it read the whole table at every fire).
            batch.BatchCommands.Add(new NpgsqlBatchCommand(NoSeqScan));
            batch.BatchCommands.Add(PostgresCommands.Command(_releaseUniqueSql, Text(context.Queue), Text(uniqueKey),
                Boolean(retention.CompletedJobs == Retain.No), Boolean(retention.FailedJobs == Retain.No), Boolean(retention.CancelledJobs == Retain.No)));
            push = again ? IdleSessionRetry.Detached(push!) : PostgresCommands.Command(_pushScheduledSql, parameters);
            batch.BatchCommands.Add(push);
            if (context.Commands.Preparation.Prepares(null))
            {
                await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
            }

            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (reader.FieldCount < 5 && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
                {
                    // Past the settings' and the release statement's results.
                }

                return await ReadAsync(reader, cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    /// <summary>The row of <see cref="ScheduleSql.TryPushScheduled"/>.</summary>
    private static async Task<(bool Inserted, bool Recorded, bool Paused, Guid? Holder)> ReadAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException("The scheduled push returned no row.");
        }

        return (reader.GetInt64(0) > 0, reader.GetInt64(2) > 0, reader.GetBoolean(3), reader.IsDBNull(4) ? null : reader.GetGuid(4));
    }
}
