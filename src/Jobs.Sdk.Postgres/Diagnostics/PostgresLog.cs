using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres;

/// <summary>Log messages of the PostgreSQL driver (source-generated).</summary>
internal static partial class PostgresLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Applied {Count} job queue migrations to schema '{Schema}': {Names}")]
    public static partial void MigrationsApplied(ILogger logger, int count, string schema, string names);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Job queue schema '{Schema}' is up to date")]
    public static partial void MigrationsUpToDate(ILogger logger, string schema);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Job queue schema '{Schema}' is not usable")]
    public static partial void MigrationsFailed(ILogger logger, Exception exception, string schema);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Cannot check the job queue schema '{Schema}': PostgreSQL is unreachable, starting, shutting down or read-only; retrying in {Delay}")]
    public static partial void MigrationsRetrying(ILogger logger, Exception exception, string schema, TimeSpan delay);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Job queue migrations of schema '{Schema}' could not get a table lock; retrying in {Delay}: {Reason}")]
    public static partial void MigrationsWaitingForLock(ILogger logger, Exception exception, string schema, TimeSpan delay, string reason);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "The job queue's connections (schema '{Schema}') go through a connection pooler such as PgBouncer (the server process id differs from the one the connection announced): statements are not prepared")]
    public static partial void BehindPooler(ILogger logger, string schema);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Job queue migration {Migration} (schema '{Schema}') has waited {Waited} to build index {Index} concurrently ({Phase}): it waits for these older transactions to end: {Sessions}. " +
        ConcurrentIndexWait.Advice)]
    public static partial void ConcurrentIndexWaiting(ILogger logger, string migration, string schema, TimeSpan waited, string index, string phase, string sessions);

    [LoggerMessage(EventId = 2090, Level = LogLevel.Error, Message = "The job queue schema '{Schema}' has migrations up to version {DatabaseVersion}, recorded by a newer Jobs.Sdk.Postgres that this version (migrations up to version {CodeVersion}) cannot run against. Workers of this process stay stopped; deploy the newer version")]
    public static partial void SchemaIncompatible(ILogger logger, Exception exception, string schema, int codeVersion, int databaseVersion);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Debug, Message = "Listening for job notifications on channel '{Channel}'")]
    public static partial void Listening(ILogger logger, string channel);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "The job notification listener lost its connection; reconnecting in {Delay} (polling continues meanwhile)")]
    public static partial void ListenerFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Ignoring malformed job notification '{Payload}'")]
    public static partial void BadNotification(ILogger logger, string payload);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Debug, Message = "Could not announce pushed jobs (listeners find them at their next poll)")]
    public static partial void AnnounceFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2015, Level = LogLevel.Warning, Message = "PostgreSQL refused a write (read-only: a failover?): {Reason}. Cleared the connection pool so that new connections reach the current primary")]
    public static partial void PoolClearedOnReadOnly(ILogger logger, string reason);

    [LoggerMessage(EventId = 2017, Level = LogLevel.Warning, Message = "The job store reads a read-only PostgreSQL server ({Reason}): its figures may be stale. Cleared the connection pool so that new connections reach the current primary if the host name now leads to one (again at most every 10 s while it stays read-only)")]
    public static partial void PoolClearedOnReadOnlyRead(ILogger logger, string reason);

    [LoggerMessage(EventId = 2016, Level = LogLevel.Debug, Message = "Queue '{Queue}' found no job for {Idle}: its claim-and-renewal connection went back to the pool (the claim that finds jobs takes one again)")]
    public static partial void HeldConnectionReleased(ILogger logger, string queue, TimeSpan idle);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Warning, Message = "Queue '{Queue}': a claim gave up after waiting {Waited} for {LockName}, which another session holds (a claimer cut off in the middle of its claim keeps it until the server notices the dead connection; a session that locked it by hand keeps it until it ends). " +
        "The queue claims again at its next wake-up or poll, and its running jobs' leases are still renewed; no job of it starts while the lock is held. Logged once until a claim gets the lock again. If it lasts, find the session in pg_locks and pg_stat_activity and end it (pg_terminate_backend), or shorten how long a dead client's session lives (tcp_keepalives_idle, idle_in_transaction_session_timeout)")]
    public static partial void ClaimLockBusy(ILogger logger, Exception exception, string queue, string lockName, TimeSpan waited);

    [LoggerMessage(EventId = 1017, Level = LogLevel.Information, Message = "Queue '{Queue}': a claim got the lock again after {Busy} ({GaveUp} claim(s) gave up on it meanwhile)")]
    public static partial void ClaimLockFree(ILogger logger, string queue, TimeSpan busy, int gaveUp);

    [LoggerMessage(EventId = 1018, Level = LogLevel.Warning, Message = "Queue '{Queue}': the lease of running job {JobId} was not renewed: another session holds its row ({Holder}), longer than the renewal waits for it. " +
        "The queue's other running jobs were renewed; this one is tried again at every renewal, and its handler goes on until its lease ({Lease}) ends unrenewed, then it is cancelled and the job rescued. " +
        "Logged once per claim. An open transaction that updated or locked the job (BEGIN; UPDATE ... left idle in transaction) holds it: commit or roll it back, or end the session (pg_terminate_backend); find it in pg_stat_activity by its pid")]
    public static partial void LeaseRowHeld(ILogger logger, string queue, JobId jobId, string holder, TimeSpan lease);

    [LoggerMessage(EventId = 1019, Level = LogLevel.Information, Message = "Queue '{Queue}': the lease of running job {JobId} was renewed again after {Held} (another session held its row)")]
    public static partial void LeaseRowFree(ILogger logger, string queue, JobId jobId, TimeSpan held);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "A RunningJobCancelled handler threw for job {JobId}; the other handlers (the worker's among them) still ran. Handlers of RunningJobCancelled must not throw: catch inside the handler")]
    public static partial void CancelHandlerFailed(ILogger logger, Exception exception, JobId jobId);

    [LoggerMessage(EventId = 2040, Level = LogLevel.Warning, Message = "A bulk {Action} of {Jobs} job(s) ran past statement_timeout {Timeout} (role '{Role}', set by: {Source}) and was rolled back, none of its jobs changed; " +
        "it is tried again in smaller statements (a single job that runs past it fails the action). Raise the timeout for the role that operates the jobs to keep bulk actions in full batches")]
    public static partial void BulkStatementTimedOut(ILogger logger, string action, int jobs, string timeout, string role, string source);

    [LoggerMessage(EventId = 2046, Level = LogLevel.Warning, Message = "A bulk {Action} of {Jobs} job(s) changed {Changed} and left {Left} unchanged: other transactions hold their rows locked past the action's lock wait " +
        "(lock_timeout: half the statement_timeout, at most 5 s). Held by: {Holders}. End that transaction (pg_terminate_backend) or wait for it, then run the action again on the jobs left")]
    public static partial void BulkRowsLocked(ILogger logger, string action, int jobs, int changed, int left, string holders);

    [LoggerMessage(EventId = 2018, Level = LogLevel.Warning, Message = "A QueuePaused handler of queue '{Queue}' threw when the queue was paused; the other handlers (the worker's among them) still ran. Handlers of QueuePaused must not throw: catch inside the handler")]
    public static partial void QueuePausedHandlerFailed(ILogger logger, Exception exception, string queue);
}
