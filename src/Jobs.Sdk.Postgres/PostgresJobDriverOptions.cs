namespace Jobs.Sdk.Postgres;

/// <summary>Settings of the PostgreSQL driver (<c>jobs.UsePostgres(dataSource, o => ...)</c>).</summary>
public sealed class PostgresJobDriverOptions
{
    /// <summary>
    /// The queue this driver serves. Queues sharing one database (and schema) are isolated by name; any text without NUL
    /// characters and without whitespace at either end, at most 1,000 bytes of UTF-8, is allowed (it is stored as a value, never spliced into SQL). Default
    /// <c>"default"</c>.
    /// </summary>
    public string QueueName { get; set; } = "default";

    /// <summary>
    /// The schema holding the job tables. Must be a plain identifier (letters, digits, underscores, not starting with a
    /// digit, at most 63 characters). Default <c>"jobs"</c>.
    /// </summary>
    public string Schema { get; set; } = "jobs";

    /// <summary>
    /// The longest idle wait between checks for due jobs. With LISTEN/NOTIFY on, pushes wake idle workers at once and
    /// polling is only the safety net (and what picks up delayed jobs pushed by other processes). Default 1 s.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>What is kept once jobs finish. Defaults: keep failed; delete completed and cancelled.</summary>
    public RetentionPolicy Retention { get; set; } = new();

    /// <summary>
    /// Whether pushes send a NOTIFY and workers hold a dedicated LISTEN connection (instant wake-ups, cluster-wide
    /// cancellation of running jobs). Set to <see langword="false"/> behind PgBouncer in transaction pooling mode:
    /// workers then poll every <see cref="PollInterval"/> and learn of cancellations through lease renewal. Default true.
    /// </summary>
    public bool UseListenNotify { get; set; } = true;

    /// <summary>
    /// Whether <c>UsePostgres</c> registers a hosted service that applies the driver's migrations
    /// when the host starts. When <see langword="false"/>, nothing is applied automatically: a DBA applies
    /// <see cref="PostgresJobMigrations.GetScript"/> and the driver only verifies, on first use, that the schema is up to
    /// date (failing with the list of pending migrations otherwise). Set it to <see langword="false"/> behind a connection
    /// pooler such as PgBouncer and apply migrations over a direct connection: through a pooler pending migrations are
    /// refused (<see cref="PostgresMigrationException"/>), as the pooler cannot keep the migration lock on one session.
    /// Default true.
    /// </summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>
    /// With <see cref="MigrateOnStartup"/>: only verify the schema instead of applying migrations. Pending migrations
    /// then fail host startup (and every push and worker) with their names. Default false.
    /// </summary>
    public bool DryRun { get; set; }

    /// <summary>
    /// Whether claims and completions commit with <c>synchronous_commit = off</c> (transaction-local): workers no longer
    /// wait for a WAL flush per claim and per completion batch, which raises throughput a lot on disks with slow fsync.
    /// The cost: after a database <i>crash</i> (not a clean restart or failover with synchronous replication), the
    /// claims and completions of the last few hundred milliseconds may be lost, so those jobs run again, possibly while a
    /// handler started before the crash still runs (they are never lost: pushes, cancels, pauses and cleanup always
    /// commit durably). Default false.
    /// </summary>
    public bool FastWorkerCommits { get; set; }

    /// <summary>
    /// How long a queue of a worker host may go without work before the connection it keeps for its claims and lease
    /// renewals goes back to the pool. While a queue has work, that connection is its own, so that handlers holding the
    /// pool's connections cannot make its renewals and claims wait; a host serving many queues would otherwise hold one
    /// server connection per queue even when every queue is idle. A queue is idle when no claim found a job and no lease
    /// was renewed for this long and for at least one lease (<c>JobWorkerOptions.LeaseDuration</c>: a queue with a job
    /// running or buffered renews its leases every third of one, so it never counts as idle). An idle queue's claims then
    /// rent a pooled connection, their polls in turns with the other idle queues' polls of the driver (so one pooled
    /// connection serves all of them; a claim woken by a push does not wait for the turn); the claim that finds jobs keeps
    /// its connection again.
    /// The pool closes connections that stay idle after its <c>Connection Idle Lifetime</c> (300 s by default).
    /// <see cref="Timeout.InfiniteTimeSpan"/> keeps the connection for good. Default 60 s.
    /// </summary>
    public TimeSpan HeldConnectionIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Whether the schema check retries while the server is out of reach or its read fails for a transient reason (a
    /// timeout, a broken connection): a worker waits for its database. False for a command that must end and say why
    /// (<c>jobs cleanup</c>, <c>jobs audit prune</c>): the check then fails with that error at once. Default true.
    /// </summary>
    internal bool RetrySchemaCheck { get; set; } = true;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(QueueName, nameof(QueueName));
        JobTextLimits.CheckQueueName(QueueName, "PostgresJobDriverOptions.QueueName");

        PostgresIdentifier.Validate(Schema, nameof(Schema));
        if (PollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "PostgresJobDriverOptions.PollInterval must be positive.");
        }

        if (HeldConnectionIdleTimeout <= TimeSpan.Zero && HeldConnectionIdleTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(HeldConnectionIdleTimeout), HeldConnectionIdleTimeout,
                "PostgresJobDriverOptions.HeldConnectionIdleTimeout must be positive, or Timeout.InfiniteTimeSpan to keep the connection for good.");
        }

        JobTimeLimits.CheckTimer(PollInterval, "PostgresJobDriverOptions.PollInterval", nameof(PollInterval));
        JobTimeLimits.CheckTimer(HeldConnectionIdleTimeout, "PostgresJobDriverOptions.HeldConnectionIdleTimeout", nameof(HeldConnectionIdleTimeout));
        ArgumentNullException.ThrowIfNull(Retention, nameof(Retention));
    }

    internal PostgresJobDriverOptions Clone() => (PostgresJobDriverOptions)MemberwiseClone();
}
