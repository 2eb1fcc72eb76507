using System.Collections.Concurrent;
using System.Data.Common;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The PostgreSQL job driver: one table per schema, queues isolated by name, batch claims with
/// <c>FOR UPDATE SKIP LOCKED</c>, batched completions, leases with rescue, LISTEN/NOTIFY wake-ups with polling as the
/// safety net, and exactly-once schedule fires. Thread-safe; one instance per store and process, with a view per further queue (<see cref="ForQueue"/>).
/// </summary>
/// <remarks>
/// <para>Batch operations (push of many jobs, completion, lease renewal) bind PostgreSQL arrays. A data source built with
/// <see cref="NpgsqlSlimDataSourceBuilder"/> must call <c>EnableArrays()</c>; the connection-string overload of
/// <c>UsePostgres</c> does that for you.</para>
/// <para>The driver is a facade over its parts: the schema gate (migrations), the notifier (LISTEN/NOTIFY and wake-ups),
/// the pusher, the worker commands (claim, complete, leases, rescue), the job control (cancel, pause, resume, queries,
/// cleanup) and the schedule store.</para>
/// </remarks>
public sealed class PostgresJobDriver : IJobDriver, IJobScheduleStore, IAllQueueStateCounts, IHeldDisposal, IJobStoreClock, IAmbientTransactionPushes
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly PostgresJobDriverOptions _options;
    private readonly CancellationTokenSource _disposing = new();
    private readonly DisposalHolds _holds = new(); // the root's: workers whose handlers outlive their stop hold the data source's disposal
    private readonly PostgresSchemaGate _gate;
    private readonly PostgresPreparation _preparation;
    private readonly WorkerConnection _workerConnection;
    private readonly SemaphoreSlim _idleClaims; // shared with the views: idle queues' polls take turns (WorkerConnection)
    private readonly PostgresListener? _listener;
    private readonly PostgresNotifier _notifier;
    private readonly PostgresJobPusher _pusher;
    private readonly PostgresWorkerCommands _worker;
    private readonly PostgresRateLimiter _rateLimiter;
    private readonly PostgresQueueState _queueState;
    private readonly PostgresJobControl _control;
    private readonly PostgresJobCounts _counts;
    private readonly PostgresCountsByName _countsByName;
    private readonly PostgresExpiredHolds _expiredHolds;
    private readonly PostgresAuditRetention _auditRetention;
    private readonly PostgresCleanup _cleanup;
    private readonly PostgresScheduleStore _schedules;
    private readonly PostgresJobDriver? _root;
    private readonly ConcurrentDictionary<string, PostgresJobDriver> _views = new(StringComparer.Ordinal);
    private readonly ILogger _log;
    private readonly ReadOnlyPoolReset _readOnlyReset;
    private readonly TimeProvider _time;
    private readonly KeyValuePair<string, object?>[] _metricTags;
    private int _disposed;

    /// <summary>Creates the driver on <paramref name="dataSource"/> (which the caller keeps owning).</summary>
    /// <param name="dataSource">The data source. Slim data sources need <c>EnableArrays()</c>.</param>
    /// <param name="options">Queue name, schema, polling, retention, migrations.</param>
    /// <param name="logger">Optional logger.</param>
    public PostgresJobDriver(NpgsqlDataSource dataSource, PostgresJobDriverOptions? options = null, ILogger<PostgresJobDriver>? logger = null)
        : this(dataSource, options, logger, null, ownsDataSource: false)
    {
    }

    /// <summary>
    /// The constructor <c>UsePostgres</c> uses: time from the registered <see cref="TimeProvider"/> (the clock of the
    /// driver's own waits: idle polling, wake-ups of delayed jobs, reconnect backoff; what is due is always decided by
    /// the database clock), and the data source owned (disposed with the driver) when the driver built it.
    /// </summary>
    internal PostgresJobDriver(NpgsqlDataSource dataSource, PostgresJobDriverOptions? options, ILogger? logger, TimeProvider? timeProvider,
        bool ownsDataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _options = (options ?? new PostgresJobDriverOptions()).Clone();
        _options.Validate();
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        var log = GuardedLogger.For(logger);
        var time = timeProvider ?? TimeProvider.System;
        var stopping = _disposing.Token;
        _preparation = new PostgresPreparation(dataSource);
        _gate = new PostgresSchemaGate(dataSource, _options, _preparation, time, log, stopping);
        _listener = _options.UseListenNotify ? new PostgresListener(dataSource, log, time, _gate.WaitUntilReadyAsync, stopping) : null;
        _log = log;
        _time = time;
        _notifier = new PostgresNotifier(dataSource, _listener, _options.Schema, _options.QueueName, _options.PollInterval, time, log, stopping);
        _readOnlyReset = new ReadOnlyPoolReset(dataSource, log, _listener is { } listener ? listener.Reconnect : null);
        var context = new PostgresQueueContext(new PostgresCommands(dataSource, _options.FastWorkerCommits, _preparation, _readOnlyReset), _options.QueueName, _options.Schema,
            _gate, _notifier);
        _pusher = new PostgresJobPusher(context, _options.Retention);
        _idleClaims = new SemaphoreSlim(1, 1);
        _workerConnection = new WorkerConnection(_dataSource, _readOnlyReset, _options.HeldConnectionIdleTimeout, _time, _log, _options.QueueName, _idleClaims,
            () => _notifier.LastWaitWasPoll);
        _worker = new PostgresWorkerCommands(context, _options.Retention, _workerConnection, new ClaimLockWait(_log, _options.QueueName, _time),
            new HeldLeaseRows(_log, _options.QueueName, _time));
        _rateLimiter = new PostgresRateLimiter(context, _worker, _workerConnection);
        _queueState = new PostgresQueueState(context);
        _control = new PostgresJobControl(context, _worker.RemoveCancelled);
        _counts = new PostgresJobCounts(context);
        _countsByName = new PostgresCountsByName(context);
        _expiredHolds = new PostgresExpiredHolds(context, _options.Retention);
        _auditRetention = new PostgresAuditRetention(context, _options.Retention);
        _cleanup = new PostgresCleanup(context);
        _schedules = new PostgresScheduleStore(context, _options.Retention);
        _metricTags = [new(SchemaMetricTag, _options.Schema)];
    }

    /// <summary>The turn idle queues' polls take (tests hold it).</summary>
    internal SemaphoreSlim IdleClaims => _idleClaims;

    /// <summary>A view of <paramref name="root"/> serving <paramref name="queue"/>: same connections, gate and listener.</summary>
    private PostgresJobDriver(PostgresJobDriver root, string queue)
    {
        _root = root;
        _options = root._options.Clone();
        _options.QueueName = queue;
        _options.Validate();
        _dataSource = root._dataSource;
        _gate = root._gate;
        _preparation = root._preparation;
        _listener = root._listener;
        _log = root._log;
        _time = root._time;
        _readOnlyReset = root._readOnlyReset;
        var stopping = root._disposing.Token;
        _notifier = new PostgresNotifier(_dataSource, _listener, _options.Schema, queue, _options.PollInterval, _time, _log, stopping);
        var context = new PostgresQueueContext(new PostgresCommands(_dataSource, _options.FastWorkerCommits, _preparation, _readOnlyReset), queue, _options.Schema, _gate, _notifier);
        _pusher = new PostgresJobPusher(context, _options.Retention);
        _idleClaims = root._idleClaims;
        _workerConnection = new WorkerConnection(_dataSource, _readOnlyReset, _options.HeldConnectionIdleTimeout, _time, _log, _options.QueueName, _idleClaims,
            () => _notifier.LastWaitWasPoll);
        _worker = new PostgresWorkerCommands(context, _options.Retention, _workerConnection, new ClaimLockWait(_log, _options.QueueName, _time),
            new HeldLeaseRows(_log, _options.QueueName, _time));
        _rateLimiter = new PostgresRateLimiter(context, _worker, _workerConnection);
        _queueState = new PostgresQueueState(context);
        _control = new PostgresJobControl(context, _worker.RemoveCancelled);
        _counts = new PostgresJobCounts(context);
        _countsByName = new PostgresCountsByName(context);
        _expiredHolds = new PostgresExpiredHolds(context, _options.Retention);
        _auditRetention = new PostgresAuditRetention(context, _options.Retention);
        _cleanup = new PostgresCleanup(context);
        _schedules = new PostgresScheduleStore(context, _options.Retention);
        _metricTags = root._metricTags;
    }

    /// <inheritdoc />
    public IJobDriver ForQueue(string queueName)
    {
        ArgumentException.ThrowIfNullOrEmpty(queueName);
        if (_root is not null)
        {
            return _root.ForQueue(queueName);
        }

        return string.Equals(queueName, QueueName, StringComparison.Ordinal)
            ? this
            : _views.GetOrAdd(queueName, static (q, root) => new PostgresJobDriver(root, q), this);
    }

    /// <inheritdoc />
    public Task<JobPushResult> PushUniqueAsync(JobPushRecord job, DbTransaction? transaction, CancellationToken cancellationToken)
        => _pusher.PushUniqueAsync(job, transaction, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<JobPushResult>> PushUniqueManyAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction, CancellationToken cancellationToken)
        => _pusher.PushUniqueManyAsync(jobs, transaction, cancellationToken);

    /// <inheritdoc />
    public string QueueName => _options.QueueName;

    /// <summary>The schema holding the job tables.</summary>
    public string Schema => _options.Schema;

    /// <summary>The metric tag naming the schema: drivers of one process on two schemas may serve queues of one name.</summary>
    internal const string SchemaMetricTag = "jobs.schema";

    /// <inheritdoc />
    IReadOnlyList<KeyValuePair<string, object?>> IJobDriver.MetricTags => _metricTags;

    /// <summary>The data source the driver uses.</summary>
    public NpgsqlDataSource DataSource => _dataSource;

    internal PostgresJobDriverOptions Options => _options;

    /// <summary>Clears the pool when the server refuses a write as read-only (shared by every user of the driver's data source here).</summary>
    internal ReadOnlyPoolReset ReadOnlyReset => _readOnlyReset;

    /// <summary>
    /// A worker host serves this queue: its claims and lease renewals run on a connection it keeps open while the queue
    /// has work (<see cref="WorkerConnection"/>), so that handlers holding the pool's connections cannot make them wait.
    /// </summary>
    internal void ReserveWorkerConnection() => _workerConnection.Reserve();

    /// <summary>The NOTIFY channel of this queue (schema and queue name), also used in poll-only mode for naming only.</summary>
    internal string Channel => PostgresNotifier.ChannelName(_options.Schema, _options.QueueName);

    /// <inheritdoc />
    /// <remarks>Raised by the queue's cancel notification (never in poll-only mode: workers then learn of cancels at lease
    /// renewal). Each handler runs on its own, on the thread pool: one that throws is logged (event 2013) and the others still run.</remarks>
    public event Action<JobLease>? RunningJobCancelled
    {
        add => _notifier.RunningJobCancelled += value;
        remove => _notifier.RunningJobCancelled -= value;
    }

    /// <inheritdoc />
    /// <remarks>Raised by the queue's <c>p</c> notification, which <c>PauseQueueAsync</c> sends (never in poll-only mode). Each handler
    /// runs on its own, on the thread pool: one that throws is logged (event 2018) and the others still run.</remarks>
    public event Action? QueuePaused
    {
        add => _notifier.QueuePaused += value;
        remove => _notifier.QueuePaused -= value;
    }

    /// <inheritdoc />
    public Task<bool> IsQueuePausedAsync(CancellationToken cancellationToken) => _queueState.IsPausedAsync(cancellationToken);

    /// <inheritdoc />
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken) => _gate.WaitUntilReadyAsync(cancellationToken);

    /// <inheritdoc />
    public Task PushAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction, CancellationToken cancellationToken)
        => _pusher.PushAsync(jobs, transaction, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken)
        => _worker.ClaimAsync(request, cancellationToken);

    /// <inheritdoc />
    public Task<RateLimitedClaim> ClaimRateLimitedAsync(JobClaimRequest request, CancellationToken cancellationToken)
        => _rateLimiter.ClaimAsync(request, cancellationToken);

    /// <inheritdoc />
    public Task WaitForWorkAsync(CancellationToken cancellationToken) => _notifier.WaitForWorkAsync(cancellationToken);

    /// <inheritdoc />
    /// <remarks>The network or the server went away, the server is shutting down or starting up, or it refuses writes
    /// (25006: a standby not yet promoted, a switchover): the failures the driver's own loops retry.</remarks>
    public bool IsStoreUnavailable(Exception exception) => PostgresRetry.IsTransient(exception);

    /// <inheritdoc />
    public Task CompleteAsync(string workerId, IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken)
        => _worker.CompleteAsync(workerId, outcomes, cancellationToken);

    /// <inheritdoc />
    public Task<LeaseRenewalResult> RenewLeasesAsync(string workerId, IReadOnlyList<JobLease> leases, TimeSpan leaseDuration, CancellationToken cancellationToken)
        => _worker.RenewLeasesAsync(workerId, leases, leaseDuration, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Each worker's periodic rescue pass also compacts the queue's state counts, deletes the finished unique jobs
    /// whose hold is over in the states retention drops (kept only for their key), and deletes the audit log's entries older
    /// than <see cref="RetentionPolicy.AuditLog"/> (bounded batches).</remarks>
    public async Task<int> RescueExpiredLeasesAsync(CancellationToken cancellationToken)
    {
        var rescued = await _worker.RescueExpiredLeasesAsync(this, _metricTags, cancellationToken).ConfigureAwait(false);
        await _expiredHolds.DropAsync(cancellationToken).ConfigureAwait(false);
        await _counts.CompactAsync(cancellationToken).ConfigureAwait(false);
        await _auditRetention.PruneAsync(cancellationToken).ConfigureAwait(false);
        return rescued;
    }

    /// <inheritdoc />
    public Task<bool> CancelAsync(JobId id, CancellationToken cancellationToken) => _control.CancelAsync(id, cancellationToken);

    /// <inheritdoc />
    public Task<bool> PauseAsync(JobId id, CancellationToken cancellationToken) => _control.PauseAsync(id, cancellationToken);

    /// <inheritdoc />
    public Task<bool> ResumeAsync(JobId id, CancellationToken cancellationToken) => _control.ResumeAsync(id, cancellationToken);

    /// <inheritdoc />
    public Task<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken) => _control.GetJobAsync(id, cancellationToken);

    /// <inheritdoc />
    public Task<JobCounts> GetCountsAsync(CancellationToken cancellationToken) => _counts.GetAsync(cancellationToken);

    /// <summary>The root driver: its queue views share its store, and so the state gauge's read of every queue.</summary>
    object IAllQueueStateCounts.StateCountStore => _root ?? this;

    /// <inheritdoc />
    string IAllQueueStateCounts.StateCountStoreName => $"PostgreSQL schema '{_options.Schema}'";

    /// <inheritdoc />
    Task<IReadOnlyDictionary<string, JobCounts>> IAllQueueStateCounts.GetAllQueueCountsAsync(CancellationToken cancellationToken)
        => _counts.GetAllAsync(cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<JobNameCounts>> GetCountsByNameAsync(CancellationToken cancellationToken) => _countsByName.GetAsync(cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<WaitingJobName>> GetWaitingNamesAsync(TimeSpan dueFor, CancellationToken cancellationToken)
        => _control.GetWaitingNamesAsync(dueFor, cancellationToken);

    /// <inheritdoc />
    public Task CleanupAsync(CleanupOptions options, CancellationToken cancellationToken) => _cleanup.CleanupAsync(options, cancellationToken);

    /// <summary>
    /// <see cref="CleanupAsync"/>, returning how many jobs it deleted: the rows its own statements deleted, not a difference
    /// of counts (which jobs finishing, or another cleanup deleting, during the run would skew). For <c>jobs cleanup</c>.
    /// A running job a live worker holds, which a removal of processing jobs only marks (its row goes when its attempt
    /// ends), counts as deleted by the pass that marked it, and not again by a later pass that finds it marked.
    /// </summary>
    internal Task<long> CleanupCountingAsync(CleanupOptions options, CancellationToken cancellationToken)
        => _cleanup.CleanupAsync(options, cancellationToken);

    /// <summary>
    /// A dry run of <see cref="CleanupCountingAsync"/>: how many jobs it would delete now, by the same conditions, changing
    /// nothing. For <c>jobs cleanup --dry-run</c>.
    /// </summary>
    internal Task<long> CountCleanupAsync(CleanupOptions options, CancellationToken cancellationToken)
        => _cleanup.CountRemovableAsync(options, cancellationToken);

    /// <summary>
    /// Deletes the audit log's entries recorded more than <paramref name="olderThan"/> ago, every batch (the log is the
    /// store's, not the queue's); returns how many. For <c>jobs audit prune</c>: the retention a worker's rescue pass
    /// applies, for a store no worker serves or whose worker role may not delete from the log. <paramref name="batchDeleted"/>
    /// hears each committed batch's count, so a prune stopped part-way still knows what it deleted.
    /// </summary>
    internal async Task<long> PruneAuditLogAsync(TimeSpan olderThan, Action<long>? batchDeleted, CancellationToken cancellationToken)
    {
        await _gate.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        return await _auditRetention.DeleteOlderThanAsync(olderThan, int.MaxValue, batchDeleted, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<DateTimeOffset?> GetLastFireTimeAsync(string entryKey, CancellationToken cancellationToken)
        => _schedules.GetLastFireTimeAsync(entryKey, cancellationToken);

    /// <inheritdoc />
    Task<IReadOnlyDictionary<string, DateTimeOffset>> IJobScheduleStore.GetLastFireTimesAsync(IReadOnlyList<string> entryKeys, CancellationToken cancellationToken)
        => _schedules.GetLastFireTimesAsync(entryKeys, cancellationToken);

    /// <inheritdoc />
    public Task<bool> TryPushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
        => _schedules.TryPushScheduledAsync(entryKey, fireTime, job, cancellationToken);

    /// <inheritdoc />
    public Task<ScheduledFireResult> PushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
        => _schedules.PushScheduledAsync(entryKey, fireTime, job, cancellationToken);

    /// <inheritdoc />
    IAsyncDisposable IHeldDisposal.HoldDisposal() => (_root ?? this)._holds.Hold();

    /// <inheritdoc />
    Task<DateTimeOffset> IJobStoreClock.GetStoreTimeAsync(CancellationToken cancellationToken) => _schedules.GetStoreTimeAsync(cancellationToken);

    /// <inheritdoc />
    bool IAmbientTransactionPushes.JoinsAmbientTransaction => _pusher.JoinsAmbientTransaction;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_root is not null)
        {
            return; // a queue view: the root owns the connections
        }

        KeptConnections.Release(_dataSource, this); // another host's workers on the same data source may keep them now
        // The state gauge stops reporting the store's queues now, not when the collector drops their drivers.
        JobsInstrumentation.ForgetQueue(this);
        foreach (var view in _views.Values)
        {
            JobsInstrumentation.ForgetQueue(view);
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        _notifier.Stop();
        if (_listener is not null)
        {
            await _listener.StopAsync().ConfigureAwait(false);
        }

        foreach (var view in _views.Values)
        {
            view._notifier.Stop();
            await view._workerConnection.DisposeAsync().ConfigureAwait(false);
        }

        await _workerConnection.DisposeAsync().ConfigureAwait(false);
        await _gate.StopAsync().ConfigureAwait(false);
        if (_ownsDataSource)
        {
            // A worker whose handler ignored its token past its stop still renews that job's lease and records its outcome
            // through the data source: it is closed once that worker is done (IHeldDisposal), or now.
            await _holds.CloseAsync(_dataSource.DisposeAsync).ConfigureAwait(false);
        }

        _disposing.Dispose();
    }
}
