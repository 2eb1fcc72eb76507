using System.Diagnostics.CodeAnalysis;
namespace Jobs.Sdk.Drivers;

/// <summary>A job to store, as the queue hands it to a driver.</summary>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public sealed record JobPushRecord
{
    /// <summary>Client-generated id.</summary>
    public required JobId Id { get; init; }
    /// <summary>The job name.</summary>
    public required string Name { get; init; }
    /// <summary>The payload, UTF-8 JSON.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }
    /// <summary>Priority.</summary>
    public JobPriority Priority { get; init; } = JobPriority.Normal;
    /// <summary>Earliest run time; <see langword="null"/> means now on the store's clock.</summary>
    public DateTimeOffset? RunAt { get; init; }
    /// <summary>Attempts allowed.</summary>
    public int MaxAttempts { get; init; } = 4;
    /// <summary>Optional headers (trace context, schedule info).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
    /// <summary>
    /// The unique key (already scoped to the job name and bounded in length by the runtime), or <see langword="null"/>.
    /// Only <see cref="IJobDriver.PushUniqueAsync"/> reads it.
    /// </summary>
    public string? UniqueKey { get; init; }
    /// <summary>How long the unique key still holds after the job finished (zero: only while unfinished).</summary>
    public TimeSpan UniqueFor { get; init; }
    /// <summary>
    /// The concurrency key, or <see langword="null"/> for none: at most <see cref="ConcurrencyLimit"/> jobs of the queue with
    /// this key run at once, and they start in push order.
    /// </summary>
    public string? ConcurrencyKey { get; init; }
    /// <summary>With <see cref="ConcurrencyKey"/>: how many jobs of the key may run at once (at least 1).</summary>
    public int? ConcurrencyLimit { get; init; }
}

/// <summary>A job a worker has claimed: it owns it under a lease until it reports an outcome.</summary>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public sealed record ClaimedJob
{
    /// <summary>The id.</summary>
    public required JobId Id { get; init; }
    /// <summary>The job name.</summary>
    public required string Name { get; init; }
    /// <summary>The payload, UTF-8 JSON.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }
    /// <summary>The attempt now starting (1-based).</summary>
    public required int Attempt { get; init; }
    /// <summary>Attempts allowed.</summary>
    public required int MaxAttempts { get; init; }
    /// <summary>Priority.</summary>
    public JobPriority Priority { get; init; } = JobPriority.Normal;
    /// <summary>When the job was pushed.</summary>
    public required DateTimeOffset QueuedAt { get; init; }
    /// <summary>When the job became due.</summary>
    public required DateTimeOffset RunAt { get; init; }
    /// <summary>Headers stored with the job.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
    /// <summary>
    /// New on every claim: identifies this claim (not the job) in outcomes and renewals. A report carrying an older
    /// claim's token changes nothing, whatever its attempt number.
    /// </summary>
    public Guid LeaseToken { get; init; }
    /// <summary>
    /// How long the job had been due (since the later of <see cref="QueuedAt"/> and <see cref="RunAt"/>) when the store
    /// claimed it, on the store's clock, so that a worker whose clock is off the store's measures waits right;
    /// <see langword="null"/> when the driver does not say (the worker then measures with its own clock).
    /// </summary>
    public TimeSpan? DueFor { get; init; }
}

/// <summary>One claim a worker holds: the job and the token of the claim.</summary>
/// <param name="Id">The job.</param>
/// <param name="LeaseToken">The claim's <see cref="ClaimedJob.LeaseToken"/>.</param>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public readonly record struct JobLease(JobId Id, Guid LeaseToken)
{
    /// <summary>
    /// In a renewal: set when the handler of a claim that was claimed not started (prefetched, beyond
    /// <see cref="JobClaimRequest.StartingNow"/>) has started, to how long it has been running. The store records the start
    /// (so its attempt counts, see <see cref="IJobDriver.RescueExpiredLeasesAsync"/>) unless it already has.
    /// </summary>
    public TimeSpan? RunningFor { get; init; }
}

/// <summary>A claim request.</summary>
/// <param name="WorkerId">The claiming worker; recorded with the job and checked on completion.</param>
/// <param name="MaxJobs">How many jobs at most (the worker's free slots).</param>
/// <param name="LeaseDuration">How long the claim holds without renewal before the job may be rescued.</param>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public readonly record struct JobClaimRequest(string WorkerId, int MaxJobs, TimeSpan LeaseDuration)
{
    /// <summary>
    /// The job names the worker has handlers for: only jobs with one of these names are claimed, so that during a rolling
    /// deploy a job only a newer version knows waits for that version instead of failing. <see langword="null"/>: any name.
    /// </summary>
    public IReadOnlyList<string>? JobNames { get; init; }

    /// <summary>
    /// How many of the claimed jobs (the first ones, in claim order) start at once: their start is recorded by the claim.
    /// The others are claimed <em>not started</em> (a prefetch buffer): no start time until a renewal reports it
    /// (<see cref="JobLease.RunningFor"/>) or an outcome is recorded, and a rescue before then gives their attempt back.
    /// <see langword="null"/>: all of them.
    /// </summary>
    public int? StartingNow { get; init; }

    /// <summary>
    /// The queue's cluster-wide limit (<c>QueueOptions.GlobalConcurrency</c>): the claim takes no more than this many jobs
    /// minus those of the queue already processing on any worker (a dead worker's count until its leases are rescued).
    /// <see langword="null"/>: no limit (the plain claim, no extra cost).
    /// </summary>
    public int? GlobalConcurrency { get; init; }

    /// <summary>
    /// The queue's cluster-wide rate limit (<c>QueueOptions.RateLimit</c>), read only by
    /// <see cref="IJobDriver.ClaimRateLimitedAsync"/>: the claim takes no more jobs than the queue's token bucket holds
    /// and consumes one token per job claimed.
    /// </summary>
    public RateLimit? RateLimit { get; init; }
}

/// <summary>The result of a rate-limited claim (<see cref="IJobDriver.ClaimRateLimitedAsync"/>).</summary>
/// <param name="Jobs">The jobs claimed, in claim order.</param>
/// <param name="TokensDueIn">
/// Set when the token bucket, not the queue, limited the claim (every token granted was used and fewer jobs than asked
/// were claimed): how long until the bucket holds enough tokens for the rest of the request (at most its burst).
/// <see langword="null"/> when the queue ran out of due jobs first (unused tokens stay in the bucket).
/// </param>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public sealed record RateLimitedClaim(IReadOnlyList<ClaimedJob> Jobs, TimeSpan? TokensDueIn);

/// <summary>The result of a lease renewal.</summary>
/// <param name="Lost">Claims this worker no longer owns (rescued elsewhere, finished, deleted): their handlers must stop.</param>
/// <param name="CancelRequested">Claims whose job a user asked to cancel while running.</param>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public sealed record LeaseRenewalResult(IReadOnlyList<JobLease> Lost, IReadOnlyList<JobLease> CancelRequested)
{
    /// <summary>Nothing lost, nothing cancelled.</summary>
    public static LeaseRenewalResult None { get; } = new([], []);

    /// <summary>
    /// Claims this worker still owns whose leases the store could not extend this time (another session held the job's
    /// row): their handlers go on until their leases end (the lease watchdog cancels them then), and the next renewal
    /// tries them again. Empty by default.
    /// </summary>
    public IReadOnlyList<JobLease> NotRenewed { get; init; } = [];
}
