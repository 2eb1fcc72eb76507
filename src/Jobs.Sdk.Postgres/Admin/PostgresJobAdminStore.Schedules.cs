using System.Text;
using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

// Schedule entries of the PostgreSQL admin store: the catalog schedulers publish, an operator's trigger, pause and resume.
public sealed partial class PostgresJobAdminStore
{
    /// <inheritdoc />
    public Task<IReadOnlyList<ScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken)
        => ReadRowsAsync(Sub(AdminSql.GetSchedules), [], ReadSchedule, cancellationToken);

    /// <summary>A row of <see cref="AdminSql.GetSchedules"/> (or <see cref="AdminPageSql.SchedulePage"/>, with the same columns).</summary>
    private static ScheduleInfo ReadSchedule(NpgsqlDataReader reader) => new()
    {
        QueueName = reader.GetString(0),
        EntryKey = reader.GetString(1),
        JobName = reader.GetString(2),
        Schedule = reader.GetString(3),
        LastFireAt = reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
        NextFireAt = reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
        IsPaused = reader.GetBoolean(6),
        LastSeenAt = reader.GetFieldValue<DateTimeOffset>(7),
        IsStale = reader.GetBoolean(8),
    };

    /// <inheritdoc />
    public async Task PublishSchedulesAsync(IReadOnlyList<ScheduleRegistration> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return;
        }

        await WriteAsync(connection => PublishSchedulesOnAsync(connection, entries, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private async Task PublishSchedulesOnAsync(NpgsqlConnection connection, IReadOnlyList<ScheduleRegistration> entries, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(Sub(AdminSql.PublishSchedules), connection);
        await using var commandDisposal = command.ConfigureAwait(false);
        var p = command.Parameters;
        p.Add(TextArray(entries.Select(e => e.QueueName)));
        p.Add(TextArray(entries.Select(e => e.EntryKey)));
        p.Add(TextArray(entries.Select(e => e.JobName)));
        p.Add(TextArray(entries.Select(e => e.Description)));
        p.Add(TextArray(entries.Select(e => Encoding.UTF8.GetString(e.Payload.Span))));
        p.Add(new NpgsqlParameter<short[]> { TypedValue = entries.Select(e => (short)e.Priority).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Smallint });
        p.Add(new NpgsqlParameter<int[]> { TypedValue = entries.Select(e => e.MaxAttempts).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        p.Add(new NpgsqlParameter<DateTime?[]> { TypedValue = entries.Select(e => e.NextFireAt?.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = entries.Select(e => e.UniqueKey).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new NpgsqlParameter<double[]> { TypedValue = entries.Select(e => e.UniqueFor.TotalMilliseconds).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = entries.Select(e => e.ConcurrencyKey).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new NpgsqlParameter<int?[]> { TypedValue = entries.Select(e => e.ConcurrencyLimit).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        p.Add(new NpgsqlParameter<double[]> { TypedValue = entries.Select(e => e.TimeToLive.TotalMilliseconds).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        // Maintenance of the catalog, bounded, after the publication committed: entries no scheduler published for a week go,
        // with their fire records (ScheduleRetentionSql).
        var forget = new NpgsqlBatch(connection);
        await using var forgetDisposal = forget.ConfigureAwait(false);
        forget.BatchCommands.Add(new NpgsqlBatchCommand(Sub(ScheduleRetentionSql.DeleteForgottenFires)));
        forget.BatchCommands.Add(new NpgsqlBatchCommand(Sub(ScheduleRetentionSql.DeleteForgottenEntries)));
        try
        {
            await forget.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // A scheduler role without DELETE on the catalog: its publication stands; a role with the right forgets them.
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// One round trip after the entry's queues are read: for each queue where the entry's job is unique, the release of its
    /// key's expired holder (<see cref="UniqueJobSql.Release"/>), then the insert (<see cref="AdminSql.TriggerSchedule"/>),
    /// in one implicit transaction, as a unique push does; the insert reads a snapshot taken after the releases and yields on
    /// conflict with the key's holder.
    /// </remarks>
    public async Task<int> TriggerScheduleAsync(string entryKey, JobId id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entryKey);
        return await WriteAsync(connection => TriggerScheduleOnAsync(connection, null, entryKey, id, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// As <see cref="TriggerScheduleAsync(string, JobId, CancellationToken)"/>, in queue <paramref name="queue"/> alone; the
    /// insert pushes nothing when the entry was paused, or went stale, after it was read.
    /// </remarks>
    public async Task<int> TriggerScheduleAsync(string queue, string entryKey, JobId id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(entryKey);
        return await WriteAsync(connection => TriggerScheduleOnAsync(connection, queue, entryKey, id, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Triggers entry <paramref name="entryKey"/> in queue <paramref name="queue"/>, or in every queue that has it (null).</summary>
    private async Task<int> TriggerScheduleOnAsync(NpgsqlConnection connection, string? queue, string entryKey, JobId id, CancellationToken cancellationToken)
    {
        var queues = new List<string>();
        var keys = new List<string?>();
        var find = new NpgsqlCommand(Sub(queue is null ? AdminSql.ScheduleQueues : AdminSql.ScheduleQueue), connection);
        await using (find.ConfigureAwait(false))
        {
            find.Parameters.Add(JobQuerySql.Text(entryKey));
            if (queue is not null)
            {
                find.Parameters.Add(JobQuerySql.Text(queue));
            }

            var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerDisposal = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                queues.Add(reader.GetString(0));
                keys.Add(reader.IsDBNull(1) ? null : reader.GetString(1));
            }
        }

        if (queues.Count == 0)
        {
            return 0;
        }

        var ids = queues.Select((_, i) => i == 0 ? id.Value : JobId.New().Value).ToArray();
        var pushed = new List<(string, string)>();
        var batch = new NpgsqlBatch(connection);
        await using (batch.ConfigureAwait(false))
        {
            // The releases look each key's holder up: planned for each execution when the data source auto-prepares, as the
            // job lists are (JobsStatement's setting in front): a generic plan built on a young queue's statistics read the
            // whole jobs table at every trigger once the queue had grown.
            if (_autoPrepares)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(CustomPlan));
            }

            for (var i = 0; i < queues.Count; i++)
            {
                if (keys[i] is { } key)
                {
                    batch.BatchCommands.Add(PostgresCommands.Command(Sub(UniqueJobSql.Release), JobQuerySql.Text(queues[i]), JobQuerySql.Text(key),
                        SqlParameters.Boolean(_retention.CompletedJobs == Retain.No), SqlParameters.Boolean(_retention.FailedJobs == Retain.No),
                        SqlParameters.Boolean(_retention.CancelledJobs == Retain.No)));
                }
            }

            batch.BatchCommands.Add(PostgresCommands.Command(Sub(AdminSql.TriggerSchedule),
                JobQuerySql.Text(entryKey),
                TextArray(queues),
                new NpgsqlParameter<Guid[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid },
                JobQuerySql.Text(JobRows.HeadersText(new Dictionary<string, string> { [JobHeaders.ScheduleEntry] = entryKey })!),
                new NpgsqlParameter<string?[]> { TypedValue = keys.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text }));
            var session = connection.ProcessID;
            try
            {
                var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using var readerDisposal = reader.ConfigureAwait(false);
                if (_autoPrepares)
                {
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false); // past the setting's row
                }

                do
                {
                    // The releases return no rows; the insert returns the queues it pushed to.
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        pushed.Add((PostgresNotifier.ChannelName(Schema, reader.GetString(0)), ""));
                    }
                }
                while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (LostAnswer.Unanswered(ex, connection, cancellationToken))
            {
                // Sent, answer lost: the job may be stored. Say what happened, never a failure that invites a second trigger;
                // nothing stored (and nothing can be any more): the connection's error stands.
                var settled = await SettleTriggerAsync(entryKey, ids, session, ex).ConfigureAwait(false);
                if (settled.Count == 0)
                {
                    throw;
                }

                return settled.Count;
            }
        }

        await NotifyAsync(connection, pushed, cancellationToken).ConfigureAwait(false);
        return pushed.Count;
    }

    /// <inheritdoc />
    public async Task<int> SetSchedulePausedAsync(string entryKey, bool paused, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entryKey);
        return await WriteAsync(connection => SetSchedulePausedOnAsync(connection, null, entryKey, paused, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<int> SetSchedulePausedAsync(string queue, string entryKey, bool paused, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(entryKey);
        return await WriteAsync(connection => SetSchedulePausedOnAsync(connection, queue, entryKey, paused, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pauses or resumes entry <paramref name="entryKey"/> of queue <paramref name="queue"/>, or of every queue that has it (null).</summary>
    private async Task<int> SetSchedulePausedOnAsync(NpgsqlConnection connection, string? queue, string entryKey, bool paused, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(Sub(queue is null ? AdminSql.SetSchedulePaused : AdminSql.SetQueueSchedulePaused), connection);
        await using var commandDisposal = command.ConfigureAwait(false);
        command.Parameters.Add(JobQuerySql.Text(entryKey));
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = paused, NpgsqlDbType = NpgsqlDbType.Boolean });
        if (queue is not null)
        {
            command.Parameters.Add(JobQuerySql.Text(queue));
        }

        return (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
