using System.Data.Common;
using System.Diagnostics;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>
/// Diagnostics for <c>--explain</c>: wraps the PostgreSQL driver and counts the worker's round trips (claims, completion
/// batches, idle waits), their batch sizes and time spent in them.
/// </summary>
internal sealed class CountingDriver(IJobDriver inner) : IJobDriver
{
    private long _claims, _claimed, _emptyClaims, _completes, _completed, _waits, _claimTicks, _completeTicks, _renewals, _startsReported;

    public string QueueName => inner.QueueName;

    public event Action<JobLease>? RunningJobCancelled
    {
        add => inner.RunningJobCancelled += value;
        remove => inner.RunningJobCancelled -= value;
    }

    public string Summary(int jobs)
    {
        var claims = Interlocked.Read(ref _claims);
        var completes = Interlocked.Read(ref _completes);
        return $"worker round trips: {claims} claims ({(double)claims / jobs:0.###}/job, {Interlocked.Read(ref _claimed) / (double)Math.Max(1, claims):0.#} jobs each, " +
            $"{Interlocked.Read(ref _emptyClaims)} empty, {Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _claimTicks)).TotalMilliseconds / Math.Max(1, claims):0.##} ms each), " +
            $"{completes} completion batches ({(double)completes / jobs:0.###}/job, {Interlocked.Read(ref _completed) / (double)Math.Max(1, completes):0.#} outcomes each, " +
            $"{Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _completeTicks)).TotalMilliseconds / Math.Max(1, completes):0.##} ms each), {Interlocked.Read(ref _waits)} idle waits, " +
            $"{Interlocked.Read(ref _renewals)} renewals (carrying {Interlocked.Read(ref _startsReported)} starts of prefetched jobs)";
    }

    public async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var claimed = await inner.ClaimAsync(request, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _claimTicks, Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _claims);
        Interlocked.Add(ref _claimed, claimed.Count);
        if (claimed.Count == 0)
        {
            Interlocked.Increment(ref _emptyClaims);
        }

        return claimed;
    }

    public async Task CompleteAsync(string workerId, IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        await inner.CompleteAsync(workerId, outcomes, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _completeTicks, Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _completes);
        Interlocked.Add(ref _completed, outcomes.Count);
    }

    public Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waits);
        return inner.WaitForWorkAsync(cancellationToken);
    }

    public Task WaitUntilReadyAsync(CancellationToken cancellationToken) => inner.WaitUntilReadyAsync(cancellationToken);
    public Task PushAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction, CancellationToken cancellationToken) => inner.PushAsync(jobs, transaction, cancellationToken);
    public Task<LeaseRenewalResult> RenewLeasesAsync(string workerId, IReadOnlyList<JobLease> running, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _renewals);
        Interlocked.Add(ref _startsReported, running.Count(l => l.RunningFor is not null));
        return inner.RenewLeasesAsync(workerId, running, leaseDuration, cancellationToken);
    }
    public Task<int> RescueExpiredLeasesAsync(CancellationToken cancellationToken) => inner.RescueExpiredLeasesAsync(cancellationToken);
    public Task<bool> CancelAsync(JobId id, CancellationToken cancellationToken) => inner.CancelAsync(id, cancellationToken);
    public Task<bool> PauseAsync(JobId id, CancellationToken cancellationToken) => inner.PauseAsync(id, cancellationToken);
    public Task<bool> ResumeAsync(JobId id, CancellationToken cancellationToken) => inner.ResumeAsync(id, cancellationToken);
    public Task<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken) => inner.GetJobAsync(id, cancellationToken);
    public Task<IReadOnlyList<JobNameCounts>> GetCountsByNameAsync(CancellationToken cancellationToken) => inner.GetCountsByNameAsync(cancellationToken);

    public Task<IReadOnlyList<WaitingJobName>> GetWaitingNamesAsync(TimeSpan dueFor, CancellationToken cancellationToken)
        => inner.GetWaitingNamesAsync(dueFor, cancellationToken);

    public Task<JobCounts> GetCountsAsync(CancellationToken cancellationToken) => inner.GetCountsAsync(cancellationToken);
    public Task CleanupAsync(CleanupOptions options, CancellationToken cancellationToken) => inner.CleanupAsync(options, cancellationToken);
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
