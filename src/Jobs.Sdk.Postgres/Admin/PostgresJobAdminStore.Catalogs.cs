using System.Text;
using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

// Queues, workers and the audit log of the PostgreSQL admin store (schedule entries: PostgresJobAdminStore.Schedules.cs).
public sealed partial class PostgresJobAdminStore
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken)
        => await ReadAsync(connection => ReadQueueListAsync(connection, null, cancellationToken), cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// What the admin list says of the queues <paramref name="page"/> (by name), or of every queue it names when null: one
    /// round trip of five statements (the database's clock, counts, oldest waiting jobs, pauses, live workers), then the
    /// compaction of the counts it read from too many delta rows.
    /// </summary>
    private async Task<IReadOnlyList<QueueInfo>> ReadQueueListAsync(NpgsqlConnection connection, string[]? page, CancellationToken cancellationToken)
    {
        var oldest = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var states = new Dictionary<string, (bool Paused, string? Reason, DateTimeOffset? At)>(StringComparer.Ordinal);
        var workers = new Dictionary<string, int>(StringComparer.Ordinal);
        DateTimeOffset now;
        QueueCountRows counts;
        var batch = new NpgsqlBatch(connection);
        await using (batch.ConfigureAwait(false))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(Sub(AdminSql.DatabaseNow)));
            if (page is null)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(Sub(CountSql.ReadAll)));
                batch.BatchCommands.Add(new NpgsqlBatchCommand(Sub(AdminSql.QueueOldestWaiting)));
                batch.BatchCommands.Add(new NpgsqlBatchCommand(Sub(AdminSql.QueueStates)));
                batch.BatchCommands.Add(new NpgsqlBatchCommand(Sub(AdminSql.LiveWorkersPerQueue)));
            }
            else
            {
                batch.BatchCommands.Add(PostgresCommands.Command(Sub(AdminPageSql.CountsOf), TextArray(page)));
                batch.BatchCommands.Add(PostgresCommands.Command(Sub(AdminPageSql.OldestWaitingOf), TextArray(page)));
                batch.BatchCommands.Add(PostgresCommands.Command(Sub(AdminPageSql.StatesOf), TextArray(page)));
                batch.BatchCommands.Add(PostgresCommands.Command(Sub(AdminPageSql.LiveWorkersOf), TextArray(page)));
            }

            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerDisposal = reader.ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            now = reader.GetFieldValue<DateTimeOffset>(0);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            counts = await QueueCountRows.ReadAsync(reader, cancellationToken).ConfigureAwait(false);

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                oldest[reader.GetString(0)] = reader.GetFieldValue<DateTimeOffset>(1);
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                states[reader.GetString(0)] = (reader.GetBoolean(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                workers[reader.GetString(0)] = (int)reader.GetInt64(1);
            }
        }

        await CompactCountsAsync(connection, counts.ToCompact, cancellationToken).ConfigureAwait(false);
        IEnumerable<string> names;
        if (page is null)
        {
            var all = new SortedSet<string>(counts.QueuesWithJobs, StringComparer.Ordinal);
            all.UnionWith(states.Keys);
            all.UnionWith(workers.Keys);
            names = all;
        }
        else
        {
            names = page;
        }

        var result = new List<QueueInfo>();
        foreach (var name in names)
        {
            states.TryGetValue(name, out var state);
            result.Add(new QueueInfo
            {
                Name = name,
                IsPaused = state.Paused,
                PausedReason = state.Paused ? state.Reason : null,
                PausedAt = state.Paused ? state.At : null,
                Counts = counts.Of(name),
                OldestWaitingAge = oldest.TryGetValue(name, out var o) ? (now - o < TimeSpan.Zero ? TimeSpan.Zero : now - o) : null,
                WorkerCount = workers.GetValueOrDefault(name),
            });
        }

        return result;
    }

    /// <summary>
    /// Folds the count deltas of each of <paramref name="queues"/>, read from more than <see cref="CountSql.CompactAfter"/>
    /// (<see cref="QueueCountRows.ToCompact"/>; a queue that only producers write to is never compacted by a worker), so
    /// that the next read stays small.
    /// </summary>
    private async Task CompactCountsAsync(NpgsqlConnection connection, IEnumerable<string> queues, CancellationToken cancellationToken)
    {
        foreach (var queue in queues)
        {
            var compact = new NpgsqlCommand(Sub(CountSql.Compact), connection);
            await using var compactDisposal = compact.ConfigureAwait(false);
            compact.Parameters.Add(JobQuerySql.Text(queue));
            compact.Parameters.Add(new NpgsqlParameter<int> { TypedValue = CountSql.CompactAfter, NpgsqlDbType = NpgsqlDbType.Integer });
            try
            {
                await compact.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ReadOnlySqlTransaction)
            {
                // A read-only role or server (a standby, an old primary after a failover): its reads stay correct, only
                // larger; a worker or a writer compacts.
                return;
            }
        }
    }

    /// <inheritdoc />
    public async Task<bool> SetQueuePausedAsync(string queue, bool paused, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return await WriteAsync(connection => SetQueuePausedOnAsync(connection, queue, paused, reason, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> SetQueuePausedOnAsync(NpgsqlConnection connection, string queue, bool paused, string? reason, CancellationToken cancellationToken)
    {
        if (paused)
        {
            var pause = new NpgsqlCommand(Sub(AdminSql.PauseQueue), connection);
            await using var pauseDisposal = pause.ConfigureAwait(false);
            pause.Parameters.Add(JobQuerySql.Text(queue));
            pause.Parameters.Add(reason is null ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text } : JobQuerySql.Text(reason));
            var wasRunning = (bool)(await pause.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            // Committed: workers that claimed jobs of the queue but have not started them release them now.
            await NotifyAsync(connection, [(PostgresNotifier.ChannelName(Schema, queue), new JobNotification(JobNotificationKind.QueuePaused).Format())],
                cancellationToken).ConfigureAwait(false);
            return wasRunning;
        }

        var resume = new NpgsqlCommand(Sub(AdminSql.ResumeQueue), connection);
        await using var resumeDisposal = resume.ConfigureAwait(false);
        resume.Parameters.Add(JobQuerySql.Text(queue));
        var changed = await resume.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        if (changed)
        {
            await NotifyAsync(connection, [(PostgresNotifier.ChannelName(Schema, queue), "")], cancellationToken).ConfigureAwait(false);
        }

        return changed;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkerInfo>> GetWorkersAsync(CancellationToken cancellationToken)
        => ReadRowsAsync(Sub(AdminSql.GetWorkers), [], static reader => new WorkerInfo
        {
            WorkerId = reader.GetString(0),
            Host = reader.GetString(1),
            ProcessId = reader.GetInt32(2),
            StartedAt = reader.GetFieldValue<DateTimeOffset>(3),
            LastHeartbeatAt = reader.GetFieldValue<DateTimeOffset>(4),
            Queues = reader.GetFieldValue<string[]>(5),
            JobNames = reader.GetFieldValue<string[]>(6),
            RunningCount = reader.GetInt32(7),
            Concurrency = reader.GetInt32(8),
        }, cancellationToken);

    /// <inheritdoc />
    public async Task ReportWorkerAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        await WriteAsync(connection => ReportWorkerOnAsync(connection, heartbeat, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private async Task ReportWorkerOnAsync(NpgsqlConnection connection, WorkerHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        var batch = new NpgsqlBatch(connection);
        await using var batchDisposal = batch.ConfigureAwait(false);
        var upsert = new NpgsqlBatchCommand(Sub(AdminSql.ReportWorker));
        var p = upsert.Parameters;
        p.Add(JobQuerySql.Text(heartbeat.WorkerId));
        p.Add(JobQuerySql.Text(heartbeat.Host));
        p.Add(new NpgsqlParameter<int> { TypedValue = heartbeat.ProcessId, NpgsqlDbType = NpgsqlDbType.Integer });
        p.Add(JobQuerySql.Time(heartbeat.StartedAt));
        p.Add(new NpgsqlParameter<double> { TypedValue = heartbeat.TimeToLive.TotalMilliseconds, NpgsqlDbType = NpgsqlDbType.Double });
        p.Add(TextArray(heartbeat.Queues));
        p.Add(TextArray(heartbeat.JobNames));
        p.Add(new NpgsqlParameter<int> { TypedValue = heartbeat.RunningCount, NpgsqlDbType = NpgsqlDbType.Integer });
        p.Add(new NpgsqlParameter<int> { TypedValue = heartbeat.Concurrency, NpgsqlDbType = NpgsqlDbType.Integer });
        batch.BatchCommands.Add(upsert);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(Sub(AdminSql.DeleteExpiredWorkers)));
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task RemoveWorkerAsync(string workerId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workerId);
        await WriteAsync(connection => RemoveWorkerOnAsync(connection, workerId, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private async Task RemoveWorkerOnAsync(NpgsqlConnection connection, string workerId, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(Sub(AdminSql.RemoveWorker), connection);
        await using var commandDisposal = command.ConfigureAwait(false);
        command.Parameters.Add(JobQuerySql.Text(workerId));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await WriteAsync(connection => AppendAuditOnAsync(connection, entry, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private async Task AppendAuditOnAsync(NpgsqlConnection connection, AuditEntry entry, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(Sub(AdminSql.AppendAudit), connection);
        await using var commandDisposal = command.ConfigureAwait(false);
        command.Parameters.Add(NullableText(entry.Actor));
        command.Parameters.Add(JobQuerySql.Text(entry.Action));
        command.Parameters.Add(JobQuerySql.Text(entry.Target));
        command.Parameters.Add(NullableText(entry.Reason));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = entry.RowsChanged, NpgsqlDbType = NpgsqlDbType.Integer });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<DateTimeOffset> GetStoreTimeAsync(CancellationToken cancellationToken)
    {
        return await ReadAsync<DateTimeOffset>(async connection =>
        {
            var command = new NpgsqlCommand("SELECT clock_timestamp()", connection);
            await using var commandDisposal = command.ConfigureAwait(false);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerDisposal = reader.ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return reader.GetFieldValue<DateTimeOffset>(0);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditEntry>> GetAuditLogAsync(int limit, CancellationToken cancellationToken)
        => ReadRowsAsync(Sub(AdminSql.GetAudit), [new NpgsqlParameter<int> { TypedValue = limit, NpgsqlDbType = NpgsqlDbType.Integer }],
            static reader => new AuditEntry
            {
                Id = reader.GetInt64(0),
                At = reader.GetFieldValue<DateTimeOffset>(1),
                Actor = reader.IsDBNull(2) ? null : reader.GetString(2),
                Action = reader.GetString(3),
                Target = reader.GetString(4),
                Reason = reader.IsDBNull(5) ? null : reader.GetString(5),
                RowsChanged = reader.GetInt32(6),
            }, cancellationToken);

    private static NpgsqlParameter TextArray(IEnumerable<string> values)
        => new NpgsqlParameter<string[]> { TypedValue = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    private static NpgsqlParameter NullableText(string? value) => value is null
        ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text }
        : JobQuerySql.Text(value);
}
