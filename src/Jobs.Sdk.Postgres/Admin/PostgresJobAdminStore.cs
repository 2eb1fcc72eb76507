using System.Diagnostics;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The PostgreSQL <see cref="IJobAdminStore"/>: works on every queue of one schema through the driver's data source. Registered by
/// <c>UsePostgres</c>; <see cref="PostgresJobAdmin.Create"/> builds one (and its <see cref="JobAdmin"/>) without a host.
/// </summary>
/// <remarks>
/// Queue names are always parameters, never identifiers. Bulk actions are one statement per batch of ids; wake-ups and
/// running-job cancellations are sent with NOTIFY on each queue's channel (harmless for queues in poll-only mode, whose
/// workers learn of cancellations at lease renewal).
/// </remarks>
public sealed partial class PostgresJobAdminStore : IJobAdminStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly Func<CancellationToken, Task>? _ready;
    private readonly RetentionPolicy _retention;
    private readonly ReadOnlyPoolReset _readOnlyReset;
    private readonly string _quoted;
    private readonly bool _autoPrepares;
    private readonly string _getJob, _retry, _cancel, _delete, _setPriority, _runNow;
    private readonly string _previewRetry, _previewCancel, _previewDelete, _previewSetPriority, _previewRunNow;

    /// <summary>Creates the store on <paramref name="dataSource"/> (kept owned by the caller) for <paramref name="schema"/>.</summary>
    /// <param name="dataSource">The data source (slim data sources need <c>EnableArrays()</c>).</param>
    /// <param name="schema">The job schema (a plain identifier).</param>
    /// <remarks>
    /// A trigger of a unique schedule entry releases its key's holder when that finished more than its UniqueFor ago, as a
    /// unique push does, with the default <see cref="RetentionPolicy"/> (<see cref="PostgresJobAdmin.Create"/> uses the
    /// options' policy).
    /// </remarks>
    public PostgresJobAdminStore(NpgsqlDataSource dataSource, string schema = "jobs")
        : this(dataSource, schema, null)
    {
    }

    /// <param name="dataSource">The data source.</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="ready">Awaited before each call (the driver's migrations); null: none.</param>
    /// <param name="retention">
    /// What the driver keeps of finished jobs: a trigger of a unique entry releasing an expired holder deletes it when this
    /// drops jobs of its state, else clears its key (as <see cref="UniqueJobSql.Release"/> after a unique push). Null: the default.
    /// </param>
    /// <param name="readOnlyReset">
    /// Clears the pool when the server refuses a write as read-only (the driver's, shared with its workers); null: one of
    /// this store's own, which logs nothing.
    /// </param>
    internal PostgresJobAdminStore(NpgsqlDataSource dataSource, string schema, Func<CancellationToken, Task>? ready, RetentionPolicy? retention = null,
        ReadOnlyPoolReset? readOnlyReset = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        PostgresIdentifier.Validate(schema, nameof(schema));
        _dataSource = dataSource;
        Schema = schema;
        _ready = ready;
        _retention = retention ?? new RetentionPolicy();
        _readOnlyReset = readOnlyReset ?? new ReadOnlyPoolReset(dataSource, NullLogger.Instance);
        _quoted = PostgresIdentifier.Quote(schema);
        _autoPrepares = PostgresCommands.AutoPrepares(dataSource.ConnectionString);
        _getJob = Sub(AdminSql.GetJob);
        _retry = Sub(AdminSql.Retry);
        _cancel = Sub(AdminSql.Cancel);
        _delete = Sub(AdminSql.Delete);
        _setPriority = Sub(AdminSql.SetPriority);
        _runNow = Sub(AdminSql.RunNow);
        _previewRetry = Sub(AdminPreviewSql.Retry);
        _previewCancel = Sub(AdminPreviewSql.Cancel);
        _previewDelete = Sub(AdminPreviewSql.Delete);
        _previewSetPriority = Sub(AdminPreviewSql.SetPriority);
        _previewRunNow = Sub(AdminPreviewSql.RunNow);
    }

    /// <summary>The schema this store works on.</summary>
    public string Schema { get; }

    /// <summary>The data source.</summary>
    public NpgsqlDataSource DataSource => _dataSource;

    /// <inheritdoc />
    public async Task<JobPage> ListJobsAsync(JobQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var items = new List<JobSummary>(query.Limit + 1);
        var started = Stopwatch.GetTimestamp();
        return await ReadAsync<JobPage>(async connection =>
        {
            for (var window = query; ;)
            {
                var marker = await ReadWindowAsync(connection, window, items, cancellationToken).ConfigureAwait(false);
                if (items.Count > query.Limit)
                {
                    SortPage(items, query.Order);
                    items.RemoveRange(query.Limit, items.Count - query.Limit);
                    return new JobPage(items, JobCursor.For(query.Order, items[^1]));
                }

                // A text search read a window of rows without filling the page: search on from the window's last row while
                // the time allows, so that a page comes back empty only when the search really ran out of rows or of time.
                if (marker is null || items.Count == query.Limit || Stopwatch.GetElapsedTime(started) >= TextSearchBudget)
                {
                    SortPage(items, query.Order);
                    return new JobPage(items, marker is null ? null : JobCursor.For(query.Order, marker));
                }

                window = query with { Cursor = JobCursor.For(query.Order, marker), Limit = query.Limit - items.Count };
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// How long one page of a text search (payload or error text) goes on reading windows of
    /// <see cref="JobQuerySql.ScanLimit"/> rows before it returns what it found with a cursor to search on.
    /// </summary>
    internal static readonly TimeSpan TextSearchBudget = TimeSpan.FromSeconds(2);

    /// <summary>Reads one page statement of <paramref name="window"/> into <paramref name="items"/>; returns its window's last row when the search goes on past it.</summary>
    private async Task<JobSummary?> ReadWindowAsync(NpgsqlConnection connection, JobQuery window, List<JobSummary> items, CancellationToken cancellationToken)
    {
        var sql = JobQuerySql.For(_quoted, window);
        JobSummary? marker = null;
        var command = JobsStatement(connection, sql.Page(window), [.. sql.Parameters]);
        await using var commandDisposal = command.ConfigureAwait(false);
        var reader = await ReadJobsAsync(command, cancellationToken).ConfigureAwait(false);
        await using var readerDisposal = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var summary = ReadSummary(reader);
            if (reader.GetBoolean(15))
            {
                marker = summary;
            }
            else
            {
                items.Add(summary);
            }
        }

        return marker;
    }

    private static void SortPage(List<JobSummary> items, JobOrder order) => items.Sort(order == JobOrder.RunAt
        ? static (a, b) => a.RunAt != b.RunAt ? a.RunAt.CompareTo(b.RunAt) : a.Id.Value.CompareTo(b.Id.Value)
        : static (a, b) => b.Id.Value.CompareTo(a.Id.Value));

    /// <inheritdoc />
    /// <remarks>
    /// With text filters, reads windows of <see cref="JobQuerySql.ScanLimit"/> rows, each its own statement and
    /// transaction, until it found <paramref name="limit"/> ids or read the last matching row (see <see cref="JobQuerySql.Ids"/>).
    /// </remarks>
    public async Task<IReadOnlyList<JobId>> FindJobIdsAsync(JobQuery query, JobId? after, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var ids = new List<JobId>(Math.Min(limit, 1024));
        return await ReadAsync<IReadOnlyList<JobId>>(async connection =>
        {
            for (var from = after; ;)
            {
                var sql = JobQuerySql.For(_quoted, query);
                var command = JobsStatement(connection, sql.Ids(from, limit - ids.Count), [.. sql.Parameters]);
                await using var commandDisposal = command.ConfigureAwait(false);
                JobId? marker = null;
                var reader = await ReadJobsAsync(command, cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var id = new JobId(reader.GetGuid(0));
                        if (reader.GetBoolean(1))
                        {
                            marker = id;
                        }
                        else
                        {
                            ids.Add(id);
                        }
                    }
                }

                if (marker is null || ids.Count >= limit)
                {
                    return ids;
                }

                from = marker;
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<JobDetails?> GetJobAsync(JobId id, CancellationToken cancellationToken)
    {
        return await ReadAsync<JobDetails?>(async connection =>
        {
            var command = JobsStatement(connection, _getJob, JobQuerySql.Uuid(id));
            await using var commandDisposal = command.ConfigureAwait(false);
            var reader = await ReadJobsAsync(command, cancellationToken).ConfigureAwait(false);
            await using var readerDisposal = reader.ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            var s = ReadSummary(reader);
            return new JobDetails
            {
                Id = s.Id, Name = s.Name, QueueName = s.QueueName, State = s.State, Priority = s.Priority, Attempts = s.Attempts,
                MaxAttempts = s.MaxAttempts, QueuedAt = s.QueuedAt, RunAt = s.RunAt, StartedAt = s.StartedAt, FinishedAt = s.FinishedAt,
                LastError = s.LastError, WorkerId = s.WorkerId, DeleteRequested = s.DeleteRequested,
                Payload = reader.GetString(15),
                Headers = reader.IsDBNull(16) ? new Dictionary<string, string>(0) : JobRows.ParseHeaders(reader.GetString(16)),
                Errors = reader.IsDBNull(19) ? [] : JobRows.ReadErrors(reader.GetString(19)),
                LeaseExpiresAt = s.State == JobState.Processing && !reader.IsDBNull(17) ? reader.GetFieldValue<DateTimeOffset>(17) : null,
                CancelRequested = reader.GetBoolean(13),
                UpdatedAt = reader.GetFieldValue<DateTimeOffset>(18),
            };
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<int> ApplyAsync(JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return 0;
        }

        return await WriteAsync(connection => ApplyOnAsync(connection, action, ids, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> ApplyOnAsync(NpgsqlConnection connection, JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            try
            {
                return await ApplyStatementAsync(connection, action, ids, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException locked) when (locked.SqlState == PostgresErrorCodes.LockNotAvailable && !cancellationToken.IsCancellationRequested)
            {
                // A row of the batch stayed locked past the batch's lock wait (PostgresJobAdminStore.LockWaits.cs).
                return await ApplyAroundLockedRowsAsync(connection, action, ids, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PostgresException e) when (MayBeStatementTimeout(e, cancellationToken))
        {
            // The statement was its own transaction, rolled back: no notification is due (PostgresJobAdminStore.StatementTimeout.cs).
            if (await StatementTimedOutAsync(connection, action, ids, e, Stopwatch.GetElapsedTime(started)).ConfigureAwait(false) is { } timedOut)
            {
                throw timedOut;
            }

            throw;
        }
    }

    /// <summary>Runs <paramref name="action"/>'s statement on <paramref name="ids"/> (its own transaction) and sends the notifications it calls for; returns the rows changed.</summary>
    private async Task<int> ApplyStatementAsync(NpgsqlConnection connection, JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
    {
        var notifications = new List<(string Channel, string Payload)>();
        var changed = await RunActionAsync(connection, action, ids, notifications, cancellationToken).ConfigureAwait(false);
        await NotifyAsync(connection, notifications, cancellationToken).ConfigureAwait(false);
        return changed;
    }

    /// <summary>Runs <paramref name="action"/>'s statement on <paramref name="ids"/>, adding the notifications it calls for; returns the rows changed.</summary>
    private async Task<int> RunActionAsync(NpgsqlConnection connection, JobAdminAction action, IReadOnlyList<JobId> ids,
        List<(string Channel, string Payload)> notifications, CancellationToken cancellationToken)
    {
        int changed;
        switch (action.Kind)
        {
            case JobAdminActionKind.Retry:
            case JobAdminActionKind.RunNow:
            {
                // A retry that gave a unique job back its key lost it to a push it could not see: run again (UniqueKeyRace).
                var (rows, queues) = await UniqueKeyRace.RunAsync(
                    () => ReadQueuesAsync(connection, action.Kind == JobAdminActionKind.Retry ? _retry : _runNow, action, ids, cancellationToken)).ConfigureAwait(false);
                changed = rows;
                notifications.AddRange(queues.Select(q => (PostgresNotifier.ChannelName(Schema, q), "")));
                break;
            }

            case JobAdminActionKind.Cancel:
            {
                var command = ActionStatement(connection, _cancel, Parameters(action, ids));
                await using var commandDisposal = command.ConfigureAwait(false);
                changed = await ReadCancelsAsync(command, notifications, cancellationToken).ConfigureAwait(false);
                break;
            }

            case JobAdminActionKind.Delete:
            {
                // A running job is cancelled and removed when its attempt ends (it keeps its slots until then): its
                // handler is told at once, as a cancel tells it.
                var command = ActionStatement(connection, _delete, Parameters(action, ids));
                await using var commandDisposal = command.ConfigureAwait(false);
                changed = await ReadCancelsAsync(command, notifications, cancellationToken).ConfigureAwait(false);
                break;
            }

            case JobAdminActionKind.SetPriority:
            {
                var command = ActionStatement(connection, _setPriority, Parameters(action, ids));
                await using var commandDisposal = command.ConfigureAwait(false);
                changed = await JobsRowsAsync(command, cancellationToken).ConfigureAwait(false);
                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(action), action.Kind, "Unknown admin action.");
        }

        return changed;
    }

    /// <summary>Runs a retry or run-now statement (one row per job changed, its queue); returns the rows and their queues.</summary>
    private async Task<(int Rows, HashSet<string> Queues)> ReadQueuesAsync(NpgsqlConnection connection, string sql, JobAdminAction action,
        IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
    {
        var command = ActionStatement(connection, sql, Parameters(action, ids));
        await using var commandDisposal = command.ConfigureAwait(false);
        var queues = new HashSet<string>(StringComparer.Ordinal);
        var rows = 0;
        var reader = await ReadJobsAsync(command, cancellationToken).ConfigureAwait(false);
        await using var readerDisposal = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows++;
            queues.Add(reader.GetString(0));
        }

        return (rows, queues);
    }

    /// <summary>
    /// Runs a statement that returns id, queue, whether the job was running and its claim's lease token, and adds a
    /// cancel notification for each running one (its handler's token is cancelled wherever it runs). Returns the rows.
    /// </summary>
    private async Task<int> ReadCancelsAsync(NpgsqlBatch command, List<(string Channel, string Payload)> notifications, CancellationToken cancellationToken)
    {
        var rows = 0;
        var reader = await ReadJobsAsync(command, cancellationToken).ConfigureAwait(false);
        await using var readerDisposal = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows++;
            if (reader.GetBoolean(2))
            {
                notifications.Add((PostgresNotifier.ChannelName(Schema, reader.GetString(1)), new JobNotification(JobNotificationKind.CancelRequested,
                    JobId: new JobId(reader.GetGuid(0)), LeaseToken: reader.IsDBNull(3) ? Guid.Empty : reader.GetGuid(3)).Format()));
            }
        }

        return rows;
    }

    /// <summary>
    /// The parameters of <paramref name="action"/>'s statement on <paramref name="ids"/>, and of its dry run
    /// (<see cref="AdminPreviewSql"/>): $1 the ids; retry: $2 from attempt 1, $3 the states; set priority: $2 the priority,
    /// $3 the states; the others: $2 the states.
    /// </summary>
    private static NpgsqlParameter[] Parameters(JobAdminAction action, IReadOnlyList<JobId> ids)
    {
        var idArray = new NpgsqlParameter<Guid[]> { TypedValue = ids.Select(i => i.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid };
        return action.Kind switch
        {
            JobAdminActionKind.Retry => [idArray, new NpgsqlParameter<bool> { TypedValue = action.FromFirstAttempt, NpgsqlDbType = NpgsqlDbType.Boolean }, OnlyStates(action)],
            JobAdminActionKind.SetPriority => [idArray, new NpgsqlParameter<short> { TypedValue = (short)action.Priority, NpgsqlDbType = NpgsqlDbType.Smallint }, OnlyStates(action)],
            JobAdminActionKind.Cancel or JobAdminActionKind.Delete or JobAdminActionKind.RunNow => [idArray, OnlyStates(action)],
            _ => throw new ArgumentOutOfRangeException(nameof(action), action.Kind, "Unknown admin action."),
        };
    }

    /// <summary>The states a filter's action is narrowed to (<see cref="AdminSql.InStates"/>); null: none given.</summary>
    private static NpgsqlParameter<short[]?> OnlyStates(JobAdminAction action) => new()
    {
        TypedValue = action.OnlyStates?.Select(static st => (short)st).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Smallint,
    };

    private async Task NotifyAsync(NpgsqlConnection connection, List<(string Channel, string Payload)> notifications, CancellationToken cancellationToken)
    {
        if (notifications.Count == 0)
        {
            return;
        }

        var command = new NpgsqlCommand(Sub(AdminSql.NotifyMany), connection);
        await using var commandDisposal = command.ConfigureAwait(false);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = notifications.Select(n => n.Channel).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = notifications.Select(n => n.Payload).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_ready is not null)
        {
            await _ready(cancellationToken).ConfigureAwait(false);
        }

        return await _dataSource.OpenConnectionRecheckingAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="read"/> on a connection of the pool; once more on a new one when the server had ended it while it
    /// idled (<see cref="IdleSessionRetry"/>: a dashboard left open through a quiet spell longer than a role's
    /// <c>idle_session_timeout</c>).
    /// </summary>
    private async Task<T> ReadAsync<T>(Func<NpgsqlConnection, Task<T>> read, CancellationToken cancellationToken)
    {
        if (_ready is not null)
        {
            await _ready(cancellationToken).ConfigureAwait(false);
        }

        return await IdleSessionRetry.RunAsync(_dataSource, (connection, _) => read(connection), cancellationToken).ConfigureAwait(false);
    }

    private static JobSummary ReadSummary(NpgsqlDataReader reader) => new()
    {
        Id = new JobId(reader.GetGuid(0)),
        Name = reader.GetString(1),
        QueueName = reader.GetString(2),
        State = (JobState)reader.GetInt16(3),
        Priority = (JobPriority)reader.GetInt16(4),
        Attempts = reader.GetInt32(5),
        MaxAttempts = reader.GetInt32(6),
        QueuedAt = reader.GetFieldValue<DateTimeOffset>(7),
        RunAt = reader.GetFieldValue<DateTimeOffset>(8),
        StartedAt = reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9),
        FinishedAt = reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
        LastError = reader.IsDBNull(11) ? null : reader.GetString(11),
        WorkerId = reader.IsDBNull(12) ? null : reader.GetString(12),
        DeleteRequested = reader.GetInt16(3) == (short)JobState.Processing && reader.GetBoolean(13) && reader.GetBoolean(14),
    };

    private string Sub(string sql) => sql.Replace("{s}", _quoted, StringComparison.Ordinal);
}
