using System.Diagnostics.CodeAnalysis;
using System.Data.Common;

namespace Jobs.Sdk.Drivers;

/// <summary>
/// The storage seam between the queue/worker runtime and a store (in-memory, PostgreSQL). Implemented by
/// Jobs.Sdk's own drivers; the contract may change between minor versions, so do not implement it in
/// application code.
/// </summary>
/// <remarks>
/// Semantics every driver keeps:
/// <list type="bullet">
/// <item>Claims hand each due job to exactly one worker, ordered by priority (highest first), then run-at, then id, and
/// record the worker id and a lease expiry; the attempt counter is incremented on claim. The first
/// <see cref="JobClaimRequest.StartingNow"/> claimed jobs are recorded started (start time = claim); the rest are claimed
/// not started until a renewal carrying <see cref="JobLease.RunningFor"/> or an outcome records their start.</item>
/// <item>Every claim gets a new <see cref="ClaimedJob.LeaseToken"/>. Outcomes and renewals apply only while that claim
/// still owns the job (state processing, same token): a late, replayed or duplicated report changes nothing, so writing
/// the same outcomes twice is harmless. Rows a statement locks are locked in one order (by id).</item>
/// <item>Cancel is sticky: once cancel was requested for a running job, any outcome other than success (retry,
/// reschedule, release) and a rescue end it cancelled.</item>
/// <item>A claim with <see cref="JobClaimRequest.JobNames"/> takes only jobs with those names.</item>
/// <item>Each failed attempt's error is kept in a bounded history (<see cref="JobInfo.Errors"/>); success clears
/// <see cref="JobInfo.LastError"/>.</item>
/// <item>Cleanup's rerun of processing jobs leaves jobs with a live lease alone.</item>
/// <item>A job whose lease expired is rescued by <see cref="RescueExpiredLeasesAsync"/>: retried if attempts remain,
/// else failed. A claim whose start was never recorded did not use an attempt: its rescue gives it back (retrying,
/// whatever <c>MaxAttempts</c>, no error recorded).</item>
/// <item>Retries, reschedules, pause/resume and rescue keep priority.</item>
/// </list>
/// </remarks>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public interface IJobDriver : IAsyncDisposable
{
    /// <summary>The queue name this driver serves (queues sharing one store are isolated by name).</summary>
    string QueueName { get; }

    /// <summary>
    /// Tags added to every metric measurement of this driver's queue: they tell apart stores of one process that serve
    /// queues of the same name (PostgreSQL: <c>jobs.schema</c>), which the queue tag alone reports as one. Fixed for the
    /// driver's lifetime; the default is none.
    /// </summary>
    IReadOnlyList<KeyValuePair<string, object?>> MetricTags => [];

    /// <summary>
    /// Waits until the store can be used (for PostgreSQL: the migrations gate). Throws
    /// <see cref="JobQueueUnavailableException"/> when it never will (migrations failed or a dry run found pending ones).
    /// </summary>
    Task WaitUntilReadyAsync(CancellationToken cancellationToken);

    /// <summary>Stores jobs. With a <paramref name="transaction"/>, joins it: the jobs exist only if the caller commits.</summary>
    /// <remarks>
    /// All or nothing. A lost answer must tell the truth (also for <see cref="PushUniqueAsync"/>): when the push is
    /// cancelled, or its connection breaks, after it was sent, throw <see cref="OperationCanceledException"/> or the
    /// driver's own exception only when the jobs are not stored and never will be, return when they are, and throw
    /// <see cref="JobPushOutcomeUnknownException"/> when the driver cannot tell. With a <paramref name="transaction"/>,
    /// the caller's commit decides (and a lost reply to it is the caller's to settle).
    /// </remarks>
    Task PushAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction, CancellationToken cancellationToken);

    /// <summary>
    /// Stores one job carrying a <see cref="JobPushRecord.UniqueKey"/> unless a job of the same queue holds that key (it is
    /// waiting or running, or finished less than its <see cref="JobPushRecord.UniqueFor"/> ago). Enforced by the store
    /// itself, so concurrent pushers of one key store exactly one job. Returns the stored or the holding job's id.
    /// </summary>
    Task<JobPushResult> PushUniqueAsync(JobPushRecord job, DbTransaction? transaction, CancellationToken cancellationToken)
        => throw new NotSupportedException($"The job driver {GetType().Name} does not support unique jobs.");

    /// <summary>
    /// Stores a batch of jobs carrying unique keys (<see cref="PushUniqueAsync"/> for each, in order: a key that appears
    /// twice is stored once, and both get that job's id). Returns one result per job, in input order.
    /// </summary>
    /// <remarks>
    /// All or nothing, as <see cref="PushAsync"/>: a batch that throws stored none of its jobs. The default pushes the
    /// jobs one by one, which is all or nothing only in the caller's <paramref name="transaction"/>; drivers override it.
    /// </remarks>
    async Task<IReadOnlyList<JobPushResult>> PushUniqueManyAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var results = new JobPushResult[jobs.Count];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = await PushUniqueAsync(jobs[i], transaction, cancellationToken).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>
    /// A driver of the same store (same connections, same LISTEN connection, same schema) serving queue
    /// <paramref name="queueName"/>. Drivers cache views: asking twice for one name gives the same instance; the view is
    /// disposed with this driver.
    /// </summary>
    IJobDriver ForQueue(string queueName)
        => string.Equals(queueName, QueueName, StringComparison.Ordinal)
            ? this
            : throw new NotSupportedException($"The job driver {GetType().Name} serves only queue '{QueueName}'.");

    /// <summary>Claims up to <see cref="JobClaimRequest.MaxJobs"/> due jobs. Returns an empty list when none is due.</summary>
    Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="ClaimAsync"/> under the queue's token bucket (<see cref="JobClaimRequest.RateLimit"/>, required): refills
    /// the bucket by the time elapsed since its last refill times the rate (capped at the burst), claims no more jobs than
    /// it holds whole tokens, and consumes one token per job claimed, all in one transaction that holds the bucket
    /// (concurrent claimers of the queue take turns, so the bucket never grants a token twice). The bucket is kept by
    /// the store, so the limit holds across processes; a new bucket starts full.
    /// </summary>
    Task<RateLimitedClaim> ClaimRateLimitedAsync(JobClaimRequest request, CancellationToken cancellationToken)
        => throw new NotSupportedException($"The job driver {GetType().Name} does not support rate limits.");

    /// <summary>
    /// Waits until new work may be available (a push notification, or a delayed job falling due) or the driver's
    /// poll interval passes. A notification that arrived since the previous call returns at once.
    /// Returns (without throwing) when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    Task WaitForWorkAsync(CancellationToken cancellationToken);

    /// <summary>Records the outcomes of attempts by <paramref name="workerId"/> (one batch, one round trip where possible).</summary>
    Task CompleteAsync(string workerId, IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <paramref name="exception"/>, thrown by one of this driver's calls, says the store is away for now
    /// (unreachable, restarting, read-only during a failover) rather than that it refused what was sent. The outcome
    /// writer's last resort for an outcome the store refuses (writing it again with a replacement error text) is kept
    /// for refusals: during an outage the outcome waits, and keeps its real error. The default, <see langword="false"/>,
    /// counts every failure as a refusal.
    /// </summary>
    bool IsStoreUnavailable(Exception exception) => false;

    /// <summary>Extends the leases of the claims this worker holds; reports claims it lost and claims a user asked to cancel.</summary>
    Task<LeaseRenewalResult> RenewLeasesAsync(string workerId, IReadOnlyList<JobLease> leases, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>
    /// Requeues (or fails, when attempts are used up) jobs whose lease has expired; a job whose claim never recorded a start
    /// gets its attempt back and is requeued. Returns how many.
    /// </summary>
    Task<int> RescueExpiredLeasesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Raised when a user cancels a running job (any node), with the claim that ran it when the cancel was requested: a
    /// worker cancels only that claim, never a later claim of the same job (a late notification changes nothing).
    /// <see cref="JobLease.LeaseToken"/> is <see cref="Guid.Empty"/> when the sender did not say which claim (older
    /// versions). Drivers without push notifications may never raise it; the worker also learns of cancellations from
    /// <see cref="RenewLeasesAsync"/>.
    /// </summary>
    event Action<JobLease>? RunningJobCancelled;

    /// <summary>
    /// Raised when this driver's queue is paused (any node), so that workers release the jobs they claimed but have not
    /// started. Drivers without push notifications may never raise it; workers holding such jobs also ask
    /// <see cref="IsQueuePausedAsync"/> periodically.
    /// </summary>
    event Action? QueuePaused
    {
        add { }
        remove { }
    }

    /// <summary>Whether this driver's queue is paused now (claims of a paused queue take nothing).</summary>
    Task<bool> IsQueuePausedAsync(CancellationToken cancellationToken) => Task.FromResult(false);

    /// <summary>Cancels a pending, retrying or paused job, or asks the worker of a running job to stop it. False when no such live job exists.</summary>
    Task<bool> CancelAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>Takes a pending or retrying job off the queue until resumed. False when the job is not waiting.</summary>
    Task<bool> PauseAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>Puts a paused job back, with its priority and original run time. False when the job is not paused.</summary>
    Task<bool> ResumeAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>Reads one job, or <see langword="null"/>.</summary>
    Task<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>Counts jobs per state in this queue.</summary>
    Task<JobCounts> GetCountsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Counts jobs per name and state in this queue (an operator's view: reads the queue's rows; a store should read them
    /// in bounded batches rather than hold one snapshot over a large queue).
    /// </summary>
    Task<IReadOnlyList<JobNameCounts>> GetCountsByNameAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Names of pending or retrying jobs that have been due for longer than <paramref name="dueFor"/>, with how many and
    /// the oldest due time. Cheap enough to run periodically (reads only runnable rows).
    /// </summary>
    Task<IReadOnlyList<WaitingJobName>> GetWaitingNamesAsync(TimeSpan dueFor, CancellationToken cancellationToken);

    /// <summary>Applies one cleanup pass to this queue.</summary>
    Task CleanupAsync(CleanupOptions options, CancellationToken cancellationToken);
}
