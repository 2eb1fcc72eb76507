namespace Jobs.Sdk;

/// <summary>Base type of errors raised by Jobs.Sdk itself.</summary>
public class JobsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public JobsException() { }
    /// <summary>Creates the exception.</summary>
    public JobsException(string message) : base(message) { }
    /// <summary>Creates the exception.</summary>
    public JobsException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// A stored payload could not be read back as its job type. The worker fails that one job with this message;
/// nothing else is affected.
/// </summary>
public sealed class JobDecodeException : JobsException
{
    /// <summary>Creates the exception.</summary>
    public JobDecodeException() { }
    /// <summary>Creates the exception.</summary>
    public JobDecodeException(string message) : base(message) { }
    /// <summary>Creates the exception.</summary>
    public JobDecodeException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a job, member and JSON path.</summary>
    public JobDecodeException(string jobName, string? member, string? path, string reason, Exception? innerException = null)
        : base(Format(jobName, member, path, reason), innerException)
    {
        JobName = jobName;
        Member = member;
        Path = path;
    }

    /// <summary>The job name whose payload failed to decode.</summary>
    public string? JobName { get; }
    /// <summary>The member being read, when known.</summary>
    public string? Member { get; }
    /// <summary>The JSON path of the failure, when known (for example <c>$.items[2].sku</c>).</summary>
    public string? Path { get; }

    private static string Format(string jobName, string? member, string? path, string reason)
    {
        var where = member is null ? "" : $" member '{member}'";
        var at = path is null ? "" : $" at {path}";
        return $"Cannot decode job '{jobName}'{where}{at}: {reason}";
    }
}

/// <summary>A job attempt ran longer than its timeout. Counts as a failed attempt.</summary>
public sealed class JobTimeoutException : JobsException
{
    /// <summary>Creates the exception.</summary>
    public JobTimeoutException() { }
    /// <summary>Creates the exception.</summary>
    public JobTimeoutException(string message) : base(message) { }
    /// <summary>Creates the exception.</summary>
    public JobTimeoutException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>No handler is registered in this process for a job name.</summary>
public sealed class UnknownJobException : JobsException
{
    /// <summary>Creates the exception.</summary>
    public UnknownJobException() { }
    /// <summary>Creates the exception.</summary>
    public UnknownJobException(string message) : base(message) { }
    /// <summary>Creates the exception.</summary>
    public UnknownJobException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// Thrown from a handler to run the job again later <b>without</b> counting a failure
/// (for example "the report is not ready yet, look again in a minute").
/// </summary>
public sealed class JobRescheduleException : JobsException
{
    /// <summary>Run again after <paramref name="delay"/>.</summary>
    public JobRescheduleException(TimeSpan delay, RescheduleAttempts attempts = RescheduleAttempts.Keep)
        : base($"Job asked to run again in {delay}.")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        Delay = delay;
        Attempts = attempts;
    }

    /// <summary>Run again at <paramref name="until"/>.</summary>
    public JobRescheduleException(DateTimeOffset until, RescheduleAttempts attempts = RescheduleAttempts.Keep)
        : base($"Job asked to run again at {until:O}.")
    {
        Until = until;
        Attempts = attempts;
    }

    /// <summary>Creates the exception with no delay.</summary>
    public JobRescheduleException() : this(TimeSpan.Zero) { }
    /// <summary>Creates the exception with no delay.</summary>
    public JobRescheduleException(string message) : base(message) { }
    /// <summary>Creates the exception with no delay.</summary>
    public JobRescheduleException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Relative delay, when given.</summary>
    public TimeSpan? Delay { get; }
    /// <summary>Absolute time, when given.</summary>
    public DateTimeOffset? Until { get; }
    /// <summary>What happens to the attempt counter.</summary>
    public RescheduleAttempts Attempts { get; }
}

/// <summary>What a <see cref="JobRescheduleException"/> does to the job's attempt counter.</summary>
public enum RescheduleAttempts
{
    /// <summary>The next run has the same attempt number as this one.</summary>
    Keep,
    /// <summary>The next run is attempt 1 again.</summary>
    Reset,
    /// <summary>The next run counts as the next attempt (as a failure would, without the error).</summary>
    Increment,
}

/// <summary>
/// A store cancelled one batch of a <see cref="JobAdmin"/> bulk action for running past its time limit for one statement
/// (PostgreSQL's <c>statement_timeout</c> of the role, database or connection). The batch was its own transaction and was
/// rolled back: none of its jobs changed. <see cref="JobAdmin"/> tries such a batch again in halves, down to one job; a
/// bulk action fails with this exception only when a single job's change runs past the limit, and its message names the
/// setting and how to raise it.
/// </summary>
public sealed class JobBatchTimeoutException : JobsException
{
    /// <summary>Creates the exception.</summary>
    public JobBatchTimeoutException() { }
    /// <summary>Creates the exception.</summary>
    public JobBatchTimeoutException(string message) : base(message) { }
    /// <summary>Creates the exception.</summary>
    public JobBatchTimeoutException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a batch of <paramref name="batchSize"/> jobs.</summary>
    public JobBatchTimeoutException(string message, int batchSize, Exception? innerException) : base(message, innerException)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        BatchSize = batchSize;
    }

    /// <summary>How many jobs the cancelled batch held (none of them changed).</summary>
    public int BatchSize { get; }
}

/// <summary>
/// A <see cref="JobAdmin"/> action found jobs whose rows other transactions held locked for longer than it waits for a row
/// lock (PostgreSQL: half the role's <c>statement_timeout</c>, at most 5 s, through <c>lock_timeout</c>): a user's open
/// transaction that updated a job row, or a <c>SELECT … FOR UPDATE</c>. The action changed every other job it could
/// (<see cref="Changed"/>, committed and counted in the audit log) and left <see cref="LockedJobs"/> as they were; the
/// message names the sessions that held them (<see cref="Holders"/>) and what to do: end or wait for those transactions,
/// then run the action again on the jobs left. A store throws it for one batch (the rest of the batch changed); JobAdmin
/// goes on with the next batches and throws it once at the end for the whole action.
/// </summary>
public sealed class JobsLockedException : JobsException
{
    /// <summary>Creates the exception.</summary>
    public JobsLockedException() { }
    /// <summary>Creates the exception.</summary>
    public JobsLockedException(string message) : base(message) { }
    /// <summary>Creates the exception.</summary>
    public JobsLockedException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for an action that changed <paramref name="changed"/> jobs and left <paramref name="lockedJobs"/>.</summary>
    /// <param name="message">What happened, who held the locks and what to do.</param>
    /// <param name="changed">The jobs the action (or the store's batch) changed, committed.</param>
    /// <param name="lockedJobs">The jobs it left unchanged because other transactions held their rows locked.</param>
    /// <param name="holders">The sessions that held them, as the store describes them (for PostgreSQL: pid, application, state, how long its transaction has been open).</param>
    /// <param name="innerException">The store's error for the lock wait (PostgreSQL: 55P03), if any.</param>
    public JobsLockedException(string message, int changed, IReadOnlyList<JobId> lockedJobs, IReadOnlyList<string> holders, Exception? innerException)
        : base(message, innerException)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(changed);
        ArgumentNullException.ThrowIfNull(lockedJobs);
        ArgumentNullException.ThrowIfNull(holders);
        Changed = changed;
        LockedJobs = lockedJobs;
        Holders = holders;
    }

    /// <summary>The jobs changed (committed) in spite of the locked ones.</summary>
    public int Changed { get; }

    /// <summary>The jobs left unchanged because another transaction held their rows locked.</summary>
    public IReadOnlyList<JobId> LockedJobs { get; } = [];

    /// <summary>The sessions that held the rows locked, one line each; empty when they had ended before the store could tell.</summary>
    public IReadOnlyList<string> Holders { get; } = [];
}

/// <summary>The job queue cannot be used yet or any more (for example migrations failed).</summary>
public sealed class JobQueueUnavailableException : JobsException
{
    /// <summary>Creates the exception.</summary>
    public JobQueueUnavailableException() { }
    /// <summary>Creates the exception.</summary>
    public JobQueueUnavailableException(string message) : base(message) { }
    /// <summary>Creates the exception.</summary>
    public JobQueueUnavailableException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// A push's answer was lost after it was sent to the database (it was cancelled, or its connection broke: the network
/// dropped, the reply was lost, a proxy reset the connection, the server restarted), and whether the database stored its
/// jobs could not be settled (the database could not be reached in time to look). The jobs may or may not exist: look
/// them up by <see cref="JobIds"/> (<see cref="JobQueue.GetJobAsync"/>) before pushing them again, or pushing again may
/// run them twice. It is no database exception on purpose, so retry policies for transient database errors leave it alone.
/// </summary>
public sealed class JobPushOutcomeUnknownException : JobsException
{
    /// <summary>Creates the exception.</summary>
    public JobPushOutcomeUnknownException() { }
    /// <summary>Creates the exception.</summary>
    public JobPushOutcomeUnknownException(string message) : base(message) { }
    /// <summary>Creates the exception.</summary>
    public JobPushOutcomeUnknownException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for the pushed jobs <paramref name="jobIds"/>.</summary>
    public JobPushOutcomeUnknownException(IReadOnlyList<JobId> jobIds, Exception? innerException)
        : base(Format(jobIds), innerException)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        JobIds = jobIds;
    }

    /// <summary>The ids of the pushed jobs: all of them are stored, or none (a push is atomic).</summary>
    public IReadOnlyList<JobId> JobIds { get; } = [];

    private static string Format(IReadOnlyList<JobId> jobIds)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        var first = jobIds.Count > 0 ? jobIds[0].ToString() : "(none)";
        var more = jobIds.Count > 1 ? $" and {jobIds.Count - 1} more" : "";
        return $"The push's answer was lost after it was sent (it was cancelled, or its connection broke), and whether the database stored it is unknown (job {first}{more}). " +
            "Look the job up with JobQueue.GetJobAsync before pushing it again.";
    }
}

/// <summary>
/// A <see cref="JobAdmin"/> action named a schedule entry that is not there: no entry of the store has the key (in the queue
/// named, when one was), or, for a trigger, no running scheduler publishes it any more (a deploy removed it). Nothing was
/// done. The message names the key and the entries there are.
/// </summary>
public sealed class ScheduleEntryNotFoundException : JobsException
{
    /// <summary>Creates the exception.</summary>
    public ScheduleEntryNotFoundException() { }
    /// <summary>Creates the exception.</summary>
    public ScheduleEntryNotFoundException(string message) : base(message) { }
    /// <summary>Creates the exception.</summary>
    public ScheduleEntryNotFoundException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for entry <paramref name="entryKey"/> of queue <paramref name="queueName"/> (null: none named).</summary>
    public ScheduleEntryNotFoundException(string message, string entryKey, string? queueName) : base(message)
    {
        EntryKey = entryKey;
        QueueName = queueName;
    }

    /// <summary>The entry key the action named.</summary>
    public string EntryKey { get; } = "";

    /// <summary>The queue the action named, or <see langword="null"/> when it named the key alone.</summary>
    public string? QueueName { get; }
}

/// <summary>
/// <see cref="JobAdmin.TriggerScheduleAsync(string, AuditInfo?, CancellationToken)"/> named a paused schedule entry: a pause
/// stops the entry's fires and its triggers alike, so nothing was pushed. Resume the entry first.
/// </summary>
public sealed class ScheduleEntryPausedException : JobsException
{
    /// <summary>Creates the exception.</summary>
    public ScheduleEntryPausedException() { }
    /// <summary>Creates the exception.</summary>
    public ScheduleEntryPausedException(string message) : base(message) { }
    /// <summary>Creates the exception.</summary>
    public ScheduleEntryPausedException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for entry <paramref name="entryKey"/> of queue <paramref name="queueName"/>.</summary>
    public ScheduleEntryPausedException(string message, string entryKey, string queueName) : base(message)
    {
        EntryKey = entryKey;
        QueueName = queueName;
    }

    /// <summary>The paused entry's key.</summary>
    public string EntryKey { get; } = "";

    /// <summary>The paused entry's queue.</summary>
    public string QueueName { get; } = "";
}
