using System.Data.Common;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The PostgreSQL job driver: one table per schema, queues isolated by name, batch claims with
/// <c>FOR UPDATE SKIP LOCKED</c>, batched completions, leases with rescue, LISTEN/NOTIFY wake-ups with polling as the
/// safety net, and exactly-once schedule fires. Thread-safe; one instance per queue and process.
/// </summary>
/// <remarks>
/// Batch operations (push of many jobs, completion, lease renewal) bind PostgreSQL arrays. A data source built with
/// <see cref="NpgsqlSlimDataSourceBuilder"/> must call <c>EnableArrays()</c>; the connection-string overload of
/// <c>UsePostgres</c> does that for you.
/// </remarks>
public sealed class PostgresJobDriver : IJobDriver, IJobScheduleStore
{
    private const int PushChunkSize = 10_000;
    private static readonly TimeSpan ListenerKeepAlive = TimeSpan.FromSeconds(30);

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly PostgresJobDriverOptions _options;
    private readonly ILogger _logger;
    private readonly string _queue;
    private readonly string? _channel;
    private readonly string _listenSql;
    private readonly bool _removeCompleted, _removeFailed, _removeCancelled;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _gateLock = new();
    private readonly Lock _signalLock = new();

    private readonly string _pushSql, _pushManySql, _claimSql, _completeSql, _renewSql, _rescueSql, _cancelSql, _pauseSql, _resumeSql;
    private readonly string _getJobSql, _countsSql, _cleanupRemoveSql, _cleanupRerunSql, _lastFireSql, _pushScheduledSql;

    private Task? _ready;
    private Task? _listener;
    // Wake-ups: every Signal() bumps _generation and completes _signal with it; WaitForWorkAsync returns at once while
    // a generation it has not consumed exists, so a notification that arrives between two waits is never lost.
    private TaskCompletionSource<long> _signal = NewSignal();
    private long _generation;
    private long _consumed;
    private long _wakeAtMs = long.MaxValue;
    private int _disposed;

    /// <summary>Creates the driver on <paramref name="dataSource"/> (which the caller keeps owning).</summary>
    /// <param name="dataSource">The data source. Slim data sources need <c>EnableArrays()</c>.</param>
    /// <param name="options">Queue name, schema, polling, retention, migrations.</param>
    /// <param name="logger">Optional logger.</param>
    public PostgresJobDriver(NpgsqlDataSource dataSource, PostgresJobDriverOptions? options = null, ILogger<PostgresJobDriver>? logger = null)
        : this(dataSource, options, logger, ownsDataSource: false)
    {
    }

    internal PostgresJobDriver(NpgsqlDataSource dataSource, PostgresJobDriverOptions? options, ILogger? logger, bool ownsDataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _options = (options ?? new PostgresJobDriverOptions()).Clone();
        _options.Validate();
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _logger = logger ?? NullLogger.Instance;
        _queue = _options.QueueName;
        var channel = ChannelName(_options.Schema, _queue);
        _channel = _options.UseListenNotify ? channel : null;
        _listenSql = "LISTEN \"" + channel.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        _removeCompleted = _options.Retention.CompletedJobs == Retain.No;
        _removeFailed = _options.Retention.FailedJobs == Retain.No;
        _removeCancelled = _options.Retention.CancelledJobs == Retain.No;

        var s = PostgresIdentifier.Quote(_options.Schema);
        _pushSql = Sub(JobSql.Push, s);
        _pushManySql = Sub(JobSql.PushMany, s);
        _claimSql = Sub(JobSql.Claim, s);
        _completeSql = Sub(JobSql.Complete, s);
        _renewSql = Sub(JobSql.RenewLeases, s);
        _rescueSql = Sub(JobSql.RescueExpired, s);
        _cancelSql = Sub(JobSql.Cancel, s);
        _pauseSql = Sub(JobSql.Pause, s);
        _resumeSql = Sub(JobSql.Resume, s);
        _getJobSql = Sub(JobSql.GetJob, s);
        _countsSql = Sub(JobSql.GetCounts, s);
        _cleanupRemoveSql = Sub(JobSql.CleanupRemove, s);
        _cleanupRerunSql = Sub(JobSql.CleanupRerun, s);
        _lastFireSql = Sub(ScheduleSql.GetLastFireTime, s);
        _pushScheduledSql = Sub(ScheduleSql.TryPushScheduled, s);
    }

    /// <inheritdoc />
    public string QueueName => _queue;

    /// <summary>The schema holding the job tables.</summary>
    public string Schema => _options.Schema;

    /// <summary>The data source the driver uses.</summary>
    public NpgsqlDataSource DataSource => _dataSource;

    internal PostgresJobDriverOptions Options => _options;

    /// <summary>The NOTIFY channel of this queue (schema and queue name), also used in poll-only mode for naming only.</summary>
    internal string Channel => ChannelName(_options.Schema, _queue);

    /// <inheritdoc />
    public event Action<JobId>? RunningJobCancelled
    {
        add
        {
            _runningJobCancelled += value;
            EnsureListener();
        }
        remove => _runningJobCancelled -= value;
    }

    private Action<JobId>? _runningJobCancelled;

    // ---------------------------------------------------------------- readiness (migrations gate)

    /// <inheritdoc />
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var ready = Volatile.Read(ref _ready) ?? StartGate();
        return ready.IsCompletedSuccessfully ? Task.CompletedTask : ready.WaitAsync(cancellationToken);
    }

    private Task StartGate()
    {
        lock (_gateLock)
        {
            return _ready ??= Task.Run(RunGateAsync);
        }
    }

    private async Task RunGateAsync()
    {
        var apply = _options.MigrateOnStartup && !_options.DryRun;
        var failures = 0;
        while (true)
        {
            try
            {
                if (apply)
                {
                    var applied = await PostgresJobMigrations.ApplyAsync(_dataSource, _options.Schema, _disposing.Token).ConfigureAwait(false);
                    if (applied.Count > 0)
                    {
                        PostgresLog.MigrationsApplied(_logger, applied.Count, _options.Schema, string.Join(", ", applied));
                    }
                    else
                    {
                        PostgresLog.MigrationsUpToDate(_logger, _options.Schema);
                    }
                }
                else
                {
                    var pending = await PostgresJobMigrations.GetPendingAsync(_dataSource, _options.Schema, _disposing.Token).ConfigureAwait(false);
                    if (pending.Count > 0)
                    {
                        throw new PostgresMigrationException(
                            $"The job queue schema '{_options.Schema}' needs {pending.Count} migration(s) that were not applied: {string.Join(", ", pending)}. " +
                            "Apply them (run PostgresJobMigrations.GetScript(schema), call PostgresJobMigrations.ApplyAsync, or set MigrateOnStartup = true and DryRun = false).",
                            pending);
                    }

                    PostgresLog.MigrationsUpToDate(_logger, _options.Schema);
                }

                return;
            }
            catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
            {
                throw new JobQueueUnavailableException("The PostgreSQL job driver was disposed before its schema was ready.");
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                var delay = Backoff(++failures);
                PostgresLog.MigrationsRetrying(_logger, ex, _options.Schema, delay);
                try
                {
                    await Task.Delay(delay, _disposing.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    throw new JobQueueUnavailableException("The PostgreSQL job driver was disposed before its schema was ready.", ex);
                }
            }
            catch (Exception ex)
            {
                PostgresLog.MigrationsFailed(_logger, ex, _options.Schema);
                throw new JobQueueUnavailableException($"The job queue (schema '{_options.Schema}', queue '{_queue}') is unavailable: {ex.Message}", ex);
            }
        }
    }

    private ValueTask EnsureReadyAsync(CancellationToken cancellationToken)
    {
        var ready = Volatile.Read(ref _ready);
        return ready is { IsCompletedSuccessfully: true } ? default : new ValueTask(WaitUntilReadyAsync(cancellationToken));
    }

    // ---------------------------------------------------------------- push

    /// <inheritdoc />
    public async Task PushAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        NpgsqlTransaction? tx = null;
        if (transaction is not null)
        {
            tx = transaction as NpgsqlTransaction ?? throw new ArgumentException(
                $"The PostgreSQL job driver can only join an NpgsqlTransaction, not a {transaction.GetType().Name}. " +
                "Begin the transaction on an NpgsqlConnection to the job database.", nameof(transaction));
            if (tx.Connection is null)
            {
                throw new InvalidOperationException("The transaction passed to PushAsync has already been committed or rolled back.");
            }
        }

        if (jobs.Count == 0)
        {
            return;
        }

        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        if (tx is not null)
        {
            await PushOnAsync(tx.Connection!, tx, jobs, cancellationToken).ConfigureAwait(false);
        }
        else if (jobs.Count <= PushChunkSize)
        {
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await PushOnAsync(connection, null, jobs, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            // Very large batches: several statements, one transaction (all or nothing).
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var own = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (own.ConfigureAwait(false))
                {
                    await PushOnAsync(connection, own, jobs, cancellationToken).ConfigureAwait(false);
                    await own.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        if (_channel is null)
        {
            // Poll-only mode: at least wake this process's own workers.
            SignalIfDue(jobs);
        }
    }

    private async Task PushOnAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<JobPushRecord> jobs, CancellationToken cancellationToken)
    {
        if (jobs.Count == 1)
        {
            var job = jobs[0];
            await using var command = new NpgsqlCommand(_pushSql, connection, transaction);
            var p = command.Parameters;
            p.Add(Text(_queue));
            p.Add(new NpgsqlParameter<Guid> { TypedValue = job.Id.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            p.Add(Text(job.Name));
            p.Add(Text(PayloadText(job)));
            p.Add(Text(HeadersText(job.Headers)));
            p.Add(new NpgsqlParameter<short> { TypedValue = (short)job.Priority, NpgsqlDbType = NpgsqlDbType.Smallint });
            p.Add(job.RunAt is { } runAt
                ? new NpgsqlParameter<DateTime> { TypedValue = runAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz }
                : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            p.Add(new NpgsqlParameter<int> { TypedValue = job.MaxAttempts, NpgsqlDbType = NpgsqlDbType.Integer });
            p.Add(Text(_channel));
            await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        for (var start = 0; start < jobs.Count; start += PushChunkSize)
        {
            var count = Math.Min(PushChunkSize, jobs.Count - start);
            var ids = new Guid[count];
            var names = new string[count];
            var payloads = new string[count];
            var headers = new string?[count];
            var priorities = new short[count];
            var runAts = new DateTime?[count];
            var maxAttempts = new int[count];
            for (var i = 0; i < count; i++)
            {
                var job = jobs[start + i];
                ArgumentNullException.ThrowIfNull(job, nameof(jobs));
                ids[i] = job.Id.Value;
                names[i] = job.Name;
                payloads[i] = PayloadText(job);
                headers[i] = HeadersText(job.Headers);
                priorities[i] = (short)job.Priority;
                runAts[i] = job.RunAt?.UtcDateTime;
                maxAttempts[i] = job.MaxAttempts;
            }

            await using var command = new NpgsqlCommand(_pushManySql, connection, transaction);
            var p = command.Parameters;
            p.Add(Text(_queue));
            p.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            p.Add(new NpgsqlParameter<string[]> { TypedValue = names, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            p.Add(new NpgsqlParameter<string[]> { TypedValue = payloads, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            p.Add(new NpgsqlParameter<string?[]> { TypedValue = headers, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            p.Add(new NpgsqlParameter<short[]> { TypedValue = priorities, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Smallint });
            p.Add(new NpgsqlParameter<DateTime?[]> { TypedValue = runAts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            p.Add(new NpgsqlParameter<int[]> { TypedValue = maxAttempts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
            p.Add(Text(_channel));
            await ExecuteArraysAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }

    // ---------------------------------------------------------------- claim / wait

    /// <inheritdoc />
    public async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(request.WorkerId, nameof(request));
        if (request.MaxJobs <= 0)
        {
            return [];
        }

        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var batch = WorkerBatch(connection);
            var command = new NpgsqlBatchCommand(_claimSql);
            var p = command.Parameters;
            p.Add(Text(_queue));
            p.Add(new NpgsqlParameter<int> { TypedValue = request.MaxJobs, NpgsqlDbType = NpgsqlDbType.Integer });
            p.Add(Text(request.WorkerId));
            p.Add(new NpgsqlParameter<double> { TypedValue = request.LeaseDuration.TotalMilliseconds, NpgsqlDbType = NpgsqlDbType.Double });
            batch.BatchCommands.Add(command);
            await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            List<ClaimedJob>? claimed = null;
            await using (reader.ConfigureAwait(false))
            {
                if (batch.BatchCommands.Count > 1)
                {
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                }

                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    (claimed ??= new List<ClaimedJob>(request.MaxJobs)).Add(new ClaimedJob
                    {
                        Id = new JobId(reader.GetGuid(0)),
                        Name = reader.GetString(1),
                        Payload = Encoding.UTF8.GetBytes(reader.GetString(2)),
                        Attempt = reader.GetInt32(3),
                        MaxAttempts = reader.GetInt32(4),
                        Priority = (JobPriority)reader.GetInt16(5),
                        QueuedAt = reader.GetFieldValue<DateTimeOffset>(6),
                        RunAt = reader.GetFieldValue<DateTimeOffset>(7),
                        Headers = reader.IsDBNull(8) ? null : ParseHeaders(reader.GetString(8)),
                    });
                }
            }

            if (claimed is null)
            {
                return [];
            }

            if (claimed.Count > 1)
            {
                // RETURNING has no order: hand jobs to the worker in claim order.
                claimed.Sort(static (a, b) =>
                {
                    var c = b.Priority.CompareTo(a.Priority);
                    if (c == 0)
                    {
                        c = a.RunAt.CompareTo(b.RunAt);
                    }

                    return c != 0 ? c : a.Id.Value.CompareTo(b.Id.Value);
                });
            }

            return claimed;
        }
    }

    /// <inheritdoc />
    public async Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        EnsureListener();
        Task<long> signal;
        TimeSpan wait;
        lock (_signalLock)
        {
            if (_generation != _consumed)
            {
                _consumed = _generation;
                return;
            }

            signal = _signal.Task;
            wait = _options.PollInterval;
            if (_wakeAtMs != long.MaxValue)
            {
                var untilDue = TimeSpan.FromMilliseconds(_wakeAtMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                if (untilDue <= TimeSpan.Zero)
                {
                    _wakeAtMs = long.MaxValue;
                    return;
                }

                if (untilDue < wait)
                {
                    wait = untilDue;
                }
            }
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        var delay = Task.Delay(wait, cts.Token);
        await Task.WhenAny(signal, delay).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        lock (_signalLock)
        {
            if (signal.IsCompletedSuccessfully && signal.Result > _consumed)
            {
                _consumed = signal.Result;
            }

            if (_wakeAtMs != long.MaxValue && _wakeAtMs <= DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
            {
                _wakeAtMs = long.MaxValue;
            }
        }
    }

    // ---------------------------------------------------------------- completion, leases, rescue

    /// <inheritdoc />
    public async Task CompleteAsync(string workerId, IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0)
        {
            return;
        }

        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var n = outcomes.Count;
        var ids = new Guid[n];
        var attempts = new int[n];
        var kinds = new short[n];
        var delays = new double[n];
        var nextAttempts = new int[n];
        var errors = new string?[n];
        var remove = new bool[n];
        for (var i = 0; i < n; i++)
        {
            var o = outcomes[i];
            ids[i] = o.Id.Value;
            attempts[i] = o.Attempt;
            kinds[i] = (short)o.Kind;
            delays[i] = o.Delay > TimeSpan.Zero ? o.Delay.TotalMilliseconds : 0;
            nextAttempts[i] = o.NextAttempt;
            errors[i] = o.Error;
            remove[i] = o.Kind switch
            {
                JobOutcomeKind.Completed => _removeCompleted,
                JobOutcomeKind.Failed => _removeFailed,
                JobOutcomeKind.Cancelled => _removeCancelled,
                _ => false,
            };
        }

        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var batch = WorkerBatch(connection);
            var command = new NpgsqlBatchCommand(_completeSql);
            batch.BatchCommands.Add(command);
            var p = command.Parameters;
            p.Add(Text(_queue));
            p.Add(Text(workerId));
            p.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            p.Add(new NpgsqlParameter<int[]> { TypedValue = attempts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
            p.Add(new NpgsqlParameter<short[]> { TypedValue = kinds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Smallint });
            p.Add(new NpgsqlParameter<double[]> { TypedValue = delays, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double });
            p.Add(new NpgsqlParameter<int[]> { TypedValue = nextAttempts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
            p.Add(new NpgsqlParameter<string?[]> { TypedValue = errors, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            p.Add(new NpgsqlParameter<bool[]> { TypedValue = remove, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Boolean });
            p.Add(Text(_channel));
            try
            {
                await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidCastException or NotSupportedException)
            {
                throw ArraysNotEnabled(ex);
            }
        }

        // Requeued jobs: wake this process's workers when they fall due (other nodes poll, or get the NOTIFY when due now).
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var o in outcomes)
        {
            if (o.Kind is JobOutcomeKind.Release || (o.Kind is JobOutcomeKind.Retry or JobOutcomeKind.Reschedule && o.Delay <= TimeSpan.Zero))
            {
                if (_channel is null)
                {
                    Signal();
                }
            }
            else if (o.Kind is JobOutcomeKind.Retry or JobOutcomeKind.Reschedule)
            {
                WakeAt(now + (long)o.Delay.TotalMilliseconds);
            }
        }
    }

    /// <inheritdoc />
    public async Task<LeaseRenewalResult> RenewLeasesAsync(string workerId, IReadOnlyList<JobId> running, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentNullException.ThrowIfNull(running);
        if (running.Count == 0)
        {
            return LeaseRenewalResult.None;
        }

        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var ids = new Guid[running.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = running[i].Value;
        }

        List<JobId>? lost = null, cancel = null;
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = new NpgsqlCommand(_renewSql, connection);
            var p = command.Parameters;
            p.Add(Text(_queue));
            p.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            p.Add(Text(workerId));
            p.Add(new NpgsqlParameter<double> { TypedValue = leaseDuration.TotalMilliseconds, NpgsqlDbType = NpgsqlDbType.Double });
            NpgsqlDataReader reader;
            try
            {
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidCastException or NotSupportedException)
            {
                throw ArraysNotEnabled(ex);
            }

            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var id = new JobId(reader.GetGuid(0));
                    if (reader.GetBoolean(1))
                    {
                        (lost ??= []).Add(id);
                    }
                    else
                    {
                        (cancel ??= []).Add(id);
                    }
                }
            }
        }

        return lost is null && cancel is null ? LeaseRenewalResult.None : new LeaseRenewalResult(lost ?? [], cancel ?? []);
    }

    /// <inheritdoc />
    public async Task<int> RescueExpiredLeasesAsync(CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = new NpgsqlCommand(_rescueSql, connection);
            var p = command.Parameters;
            p.Add(Text(_queue));
            p.Add(new NpgsqlParameter<bool> { TypedValue = _removeFailed, NpgsqlDbType = NpgsqlDbType.Boolean });
            p.Add(new NpgsqlParameter<bool> { TypedValue = _removeCancelled, NpgsqlDbType = NpgsqlDbType.Boolean });
            p.Add(Text(_channel));
            await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
            var rescued = (int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            if (rescued > 0 && _channel is null)
            {
                Signal();
            }

            return rescued;
        }
    }

    // ---------------------------------------------------------------- cancel, pause, resume

    /// <inheritdoc />
    public async Task<bool> CancelAsync(JobId id, CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = new NpgsqlCommand(_cancelSql, connection);
            var p = command.Parameters;
            p.Add(Text(_queue));
            p.Add(new NpgsqlParameter<Guid> { TypedValue = id.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            p.Add(new NpgsqlParameter<bool> { TypedValue = _removeCancelled, NpgsqlDbType = NpgsqlDbType.Boolean });
            p.Add(Text(_channel));
            await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
            var state = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (state is not short previous)
            {
                return false;
            }

            if (previous == (short)JobState.Processing && _channel is null)
            {
                // No NOTIFY in poll-only mode: tell this process's workers directly; others learn it at lease renewal.
                RaiseRunningJobCancelled(id);
            }

            return true;
        }
    }

    /// <inheritdoc />
    public async Task<bool> PauseAsync(JobId id, CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = new NpgsqlCommand(_pauseSql, connection);
            command.Parameters.Add(Text(_queue));
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }
    }

    /// <inheritdoc />
    public async Task<bool> ResumeAsync(JobId id, CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = new NpgsqlCommand(_resumeSql, connection);
            command.Parameters.Add(Text(_queue));
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            command.Parameters.Add(Text(_channel));
            var resumed = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0;
            if (resumed && _channel is null)
            {
                Signal();
            }

            return resumed;
        }
    }

    // ---------------------------------------------------------------- queries, cleanup

    /// <inheritdoc />
    public async Task<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = new NpgsqlCommand(_getJobSql, connection);
            command.Parameters.Add(Text(_queue));
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }

                return new JobInfo
                {
                    Id = new JobId(reader.GetGuid(0)),
                    Name = reader.GetString(1),
                    QueueName = reader.GetString(2),
                    State = (JobState)reader.GetInt16(3),
                    Priority = (JobPriority)reader.GetInt16(4),
                    Attempts = reader.GetInt32(5),
                    MaxAttempts = reader.GetInt32(6),
                    Payload = reader.GetString(7),
                    QueuedAt = reader.GetFieldValue<DateTimeOffset>(8),
                    RunAt = reader.GetFieldValue<DateTimeOffset>(9),
                    StartedAt = reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
                    FinishedAt = reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11),
                    LastError = reader.IsDBNull(12) ? null : reader.GetString(12),
                    WorkerId = reader.IsDBNull(13) ? null : reader.GetString(13),
                };
            }
        }
    }

    /// <inheritdoc />
    public async Task<JobCounts> GetCountsAsync(CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var counts = new List<KeyValuePair<JobState, long>>(7);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = new NpgsqlCommand(_countsSql, connection);
            command.Parameters.Add(Text(_queue));
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    counts.Add(new((JobState)reader.GetInt16(0), reader.GetInt64(1)));
                }
            }
        }

        return JobCounts.From(counts);
    }

    /// <inheritdoc />
    public async Task CleanupAsync(CleanupOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // One batch = one round trip, run as one implicit transaction (all actions or none).
            await using var batch = new NpgsqlBatch(connection);
            var rerun = false;
            foreach (var state in (ReadOnlySpan<JobState>)[JobState.Pending, JobState.Processing, JobState.Retrying, JobState.Failed,
                JobState.Completed, JobState.Cancelled, JobState.Paused])
            {
                var action = options.For(state);
                switch (action.Kind)
                {
                    case CleanupActionKind.Remove:
                    {
                        var command = new NpgsqlBatchCommand(_cleanupRemoveSql);
                        command.Parameters.Add(Text(_queue));
                        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)state, NpgsqlDbType = NpgsqlDbType.Smallint });
                        command.Parameters.Add(action.MaxAge is { } maxAge
                            ? new NpgsqlParameter<double> { TypedValue = maxAge.TotalMilliseconds, NpgsqlDbType = NpgsqlDbType.Double }
                            : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
                        batch.BatchCommands.Add(command);
                        break;
                    }

                    case CleanupActionKind.Rerun:
                    {
                        var command = new NpgsqlBatchCommand(_cleanupRerunSql);
                        command.Parameters.Add(Text(_queue));
                        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)state, NpgsqlDbType = NpgsqlDbType.Smallint });
                        batch.BatchCommands.Add(command);
                        rerun = true;
                        break;
                    }
                }
            }

            if (batch.BatchCommands.Count == 0)
            {
                return;
            }

            if (rerun && _channel is not null)
            {
                var notify = new NpgsqlBatchCommand(JobSql.Notify);
                notify.Parameters.Add(Text(_channel));
                batch.BatchCommands.Add(notify);
            }

            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            if (rerun && _channel is null)
            {
                Signal();
            }
        }
    }

    // ---------------------------------------------------------------- schedule store

    /// <inheritdoc />
    public async Task<DateTimeOffset?> GetLastFireTimeAsync(string entryKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = new NpgsqlCommand(_lastFireSql, connection);
            command.Parameters.Add(Text(_queue));
            command.Parameters.Add(Text(entryKey));
            var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return value is DateTime time ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) : null;
        }
    }

    /// <inheritdoc />
    public async Task<bool> TryPushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        ArgumentNullException.ThrowIfNull(job);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        bool stored;
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = new NpgsqlCommand(_pushScheduledSql, connection);
            var p = command.Parameters;
            p.Add(Text(_queue));
            p.Add(Text(entryKey));
            p.Add(new NpgsqlParameter<DateTime> { TypedValue = fireTime.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            p.Add(new NpgsqlParameter<Guid> { TypedValue = job.Id.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            p.Add(Text(job.Name));
            p.Add(Text(PayloadText(job)));
            p.Add(Text(HeadersText(job.Headers)));
            p.Add(new NpgsqlParameter<short> { TypedValue = (short)job.Priority, NpgsqlDbType = NpgsqlDbType.Smallint });
            p.Add(job.RunAt is { } runAt
                ? new NpgsqlParameter<DateTime> { TypedValue = runAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz }
                : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            p.Add(new NpgsqlParameter<int> { TypedValue = job.MaxAttempts, NpgsqlDbType = NpgsqlDbType.Integer });
            p.Add(Text(_channel));
            await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
            stored = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0;
        }

        if (stored && _channel is null)
        {
            SignalIfDue([job]);
        }

        return stored;
    }

    // ---------------------------------------------------------------- listener

    private void EnsureListener()
    {
        if (_channel is null || Volatile.Read(ref _listener) is not null || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        lock (_signalLock)
        {
            _listener ??= Task.Run(ListenLoopAsync);
        }
    }

    private async Task ListenLoopAsync()
    {
        var stop = _disposing.Token;
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await WaitUntilReadyAsync(stop).ConfigureAwait(false);
                var connection = await _dataSource.OpenConnectionAsync(stop).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    connection.Notification += OnNotification;
                    try
                    {
                        await using (var listen = new NpgsqlCommand(_listenSql, connection))
                        {
                            await listen.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                        }

                        PostgresLog.Listening(_logger, _channel!);
                        failures = 0;

                        // Anything pushed while we were not listening would be missed: look once.
                        Signal();
                        while (!stop.IsCancellationRequested)
                        {
                            if (!await connection.WaitAsync(ListenerKeepAlive, stop).ConfigureAwait(false))
                            {
                                // Silence: make sure the connection is still alive (half-open sockets, server restarts).
                                await using var ping = new NpgsqlCommand("SELECT 1", connection);
                                await ping.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                            }
                        }
                    }
                    finally
                    {
                        connection.Notification -= OnNotification;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (JobQueueUnavailableException)
            {
                // The schema is not usable: workers fail with that error; nothing to listen for.
                break;
            }
            catch (Exception ex)
            {
                var delay = Backoff(++failures);
                PostgresLog.ListenerFailed(_logger, ex, delay);
                try
                {
                    await Task.Delay(delay, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        var payload = e.Payload;
        if (payload.Length == 0)
        {
            Signal();
        }
        else if (payload.StartsWith("d:", StringComparison.Ordinal)
            && long.TryParse(payload.AsSpan(2), NumberStyles.Integer, CultureInfo.InvariantCulture, out var wakeAt))
        {
            WakeAt(wakeAt);
        }
        else if (payload.StartsWith("c:", StringComparison.Ordinal) && Guid.TryParse(payload.AsSpan(2), out var id))
        {
            RaiseRunningJobCancelled(new JobId(id));
        }
        else
        {
            PostgresLog.BadNotification(_logger, payload);
        }
    }

    private void RaiseRunningJobCancelled(JobId id)
    {
        var handler = _runningJobCancelled;
        if (handler is null)
        {
            return;
        }

        // Handlers cancel tokens, which runs user callbacks: keep them off the listener's connection thread.
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (self, h, jobId) = state;
            try
            {
                h(jobId);
            }
            catch (Exception ex)
            {
                PostgresLog.CancelHandlerFailed(self._logger, ex, jobId);
            }
        }, (this, handler, id), preferLocal: false);
    }

    /// <summary>Remembers that a delayed job falls due at <paramref name="unixMs"/>, so that idle waits end then.</summary>
    private void WakeAt(long unixMs)
    {
        lock (_signalLock)
        {
            if (unixMs >= _wakeAtMs)
            {
                return;
            }

            _wakeAtMs = unixMs;
            // A wait in progress ends by itself within one poll interval; only cut it short when the job is due earlier.
            if (unixMs < DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)_options.PollInterval.TotalMilliseconds)
            {
                var old = _signal;
                _signal = NewSignal();
                old.TrySetResult(_consumed);
            }
        }
    }

    private void Signal()
    {
        lock (_signalLock)
        {
            _generation++;
            var old = _signal;
            _signal = NewSignal();
            old.TrySetResult(_generation);
        }
    }

    private void SignalIfDue(IReadOnlyList<JobPushRecord> jobs)
    {
        var now = DateTimeOffset.UtcNow;
        var earliest = DateTimeOffset.MaxValue;
        foreach (var job in jobs)
        {
            if (job.RunAt is not { } runAt || runAt <= now)
            {
                Signal();
                return;
            }

            if (runAt < earliest)
            {
                earliest = runAt;
            }
        }

        WakeAt(earliest.ToUnixTimeMilliseconds());
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        lock (_signalLock)
        {
            _signal.TrySetResult(_consumed);
        }

        if (_listener is { } listener)
        {
            await listener.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_ready is { } ready)
        {
            await ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _disposing.Dispose();
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>
    /// A batch for worker bookkeeping (claims, completions). With <see cref="PostgresJobDriverOptions.FastWorkerCommits"/>
    /// it starts with a transaction-local <c>synchronous_commit = off</c>, so the commit does not wait for the WAL flush.
    /// </summary>
    private NpgsqlBatch WorkerBatch(NpgsqlConnection connection)
    {
        var batch = new NpgsqlBatch(connection);
        if (_options.FastWorkerCommits)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(JobSql.AsynchronousCommit));
        }

        return batch;
    }

    private static async Task ExecuteArraysAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        try
        {
            await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidCastException or NotSupportedException)
        {
            throw ArraysNotEnabled(ex);
        }
    }

    private static InvalidOperationException ArraysNotEnabled(Exception ex) => new(
        "The PostgreSQL job driver binds arrays for batch operations, and this NpgsqlDataSource cannot write them. " +
        "If you built it with NpgsqlSlimDataSourceBuilder, call EnableArrays() on the builder (or pass a connection string to UsePostgres). " +
        $"Npgsql said: {ex.Message}", ex);

    internal static bool IsTransient(Exception ex) => ex switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState is "57P01" or "57P02" or "57P03" or "08006" or "08001" or "08004",
        NpgsqlException npg => npg.IsTransient || npg.InnerException is SocketException or IOException or TimeoutException,
        SocketException or TimeoutException or IOException => true,
        _ => false,
    };

    private static TimeSpan Backoff(int failures)
        => TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures - 1, 10))));

    private static TaskCompletionSource<long> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static string Sub(string sql, string schema) => sql.Replace("{s}", schema, StringComparison.Ordinal);

    private static NpgsqlParameter Text(string? value) => value is null
        ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text }
        : new NpgsqlParameter<string> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Text };

    private static string PayloadText(JobPushRecord job)
    {
        if (job.Payload.IsEmpty)
        {
            throw new ArgumentException($"Job {job.Id} ('{job.Name}') has an empty payload; payloads are JSON values.", nameof(job));
        }

        return Encoding.UTF8.GetString(job.Payload.Span);
    }

    internal static string? HeadersText(IReadOnlyDictionary<string, string>? headers)
    {
        if (headers is null || headers.Count == 0)
        {
            return null;
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in headers)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer().AsSpan(0, (int)stream.Length));
    }

    internal static Dictionary<string, string> ParseHeaders(string json)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return headers;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType == JsonTokenType.String)
            {
                headers[key] = reader.GetString()!;
            }
            else
            {
                reader.Skip();
            }
        }

        return headers;
    }

    /// <summary>
    /// The LISTEN/NOTIFY channel of a queue: <c>jobs:{schema}:{queue}</c> when that fits PostgreSQL's 63-byte limit,
    /// else a hash of both.
    /// </summary>
    internal static string ChannelName(string schema, string queue)
    {
        var name = "jobs:" + schema + ":" + queue;
        if (Encoding.UTF8.GetByteCount(name) <= 63 && !name.Contains('"', StringComparison.Ordinal))
        {
            return name;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(schema + "\0" + queue));
        return "jobs:" + Convert.ToHexStringLower(hash.AsSpan(0, 20));
    }
}
