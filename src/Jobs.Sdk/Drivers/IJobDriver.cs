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
/// record the worker id and a lease expiry; the attempt counter is incremented on claim.</item>
/// <item>Outcomes only apply while the reporting worker still owns the job (state processing, same worker id).</item>
/// <item>A job whose lease expired is rescued by <see cref="RescueExpiredLeasesAsync"/>: retried if attempts remain,
/// else failed.</item>
/// <item>Retries, reschedules, pause/resume and rescue keep priority.</item>
/// </list>
/// </remarks>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public interface IJobDriver : IAsyncDisposable
{
    /// <summary>The queue name this driver serves (queues sharing one store are isolated by name).</summary>
    string QueueName { get; }

    /// <summary>
    /// Waits until the store can be used (for PostgreSQL: the migrations gate). Throws
    /// <see cref="JobQueueUnavailableException"/> when it never will (migrations failed or a dry run found pending ones).
    /// </summary>
    Task WaitUntilReadyAsync(CancellationToken cancellationToken);

    /// <summary>Stores jobs. With a <paramref name="transaction"/>, joins it: the jobs exist only if the caller commits.</summary>
    Task PushAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction, CancellationToken cancellationToken);

    /// <summary>Claims up to <see cref="JobClaimRequest.MaxJobs"/> due jobs. Returns an empty list when none is due.</summary>
    Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Waits until new work may be available (a push notification, or a delayed job falling due) or the driver's
    /// poll interval passes. A notification that arrived since the previous call returns at once.
    /// Returns (without throwing) when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    Task WaitForWorkAsync(CancellationToken cancellationToken);

    /// <summary>Records the outcomes of attempts by <paramref name="workerId"/> (one batch, one round trip where possible).</summary>
    Task CompleteAsync(string workerId, IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken);

    /// <summary>Extends the leases of jobs this worker runs; reports jobs it lost and jobs a user asked to cancel.</summary>
    Task<LeaseRenewalResult> RenewLeasesAsync(string workerId, IReadOnlyList<JobId> running, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>Requeues (or fails, when attempts are used up) jobs whose lease has expired. Returns how many.</summary>
    Task<int> RescueExpiredLeasesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Raised when a user cancels a running job (any node). Drivers without push notifications may never raise it;
    /// the worker also learns of cancellations from <see cref="RenewLeasesAsync"/>.
    /// </summary>
    event Action<JobId>? RunningJobCancelled;

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

    /// <summary>Applies one cleanup pass to this queue.</summary>
    Task CleanupAsync(CleanupOptions options, CancellationToken cancellationToken);
}
