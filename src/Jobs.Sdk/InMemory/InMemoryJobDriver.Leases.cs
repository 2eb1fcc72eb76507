using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

// Leases: renewing a worker's claims, and rescuing jobs whose lease expired (as the PostgreSQL driver's JobSql.RescueExpired).
public sealed partial class InMemoryJobDriver
{
    /// <inheritdoc />
    public Task<LeaseRenewalResult> RenewLeasesAsync(string workerId, IReadOnlyList<JobLease> leases, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentNullException.ThrowIfNull(leases);
        if (leases.Count == 0)
        {
            return Task.FromResult(LeaseRenewalResult.None);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<LeaseRenewalResult>(cancellationToken);
        }

        var now = _time.GetUtcNow();
        List<JobLease>? lost = null, cancel = null;
        lock (_gate)
        {
            foreach (var lease in leases)
            {
                if (_jobs.TryGetValue(lease.Id, out var entry) && entry.State == JobState.Processing && entry.WorkerId == workerId
                    && entry.LeaseToken == lease.LeaseToken)
                {
                    entry.LeaseExpiresAt = now + leaseDuration;
                    if (lease.RunningFor is { } runningFor)
                    {
                        entry.StartedAt ??= now - runningFor;
                    }

                    if (entry.CancelRequested)
                    {
                        (cancel ??= []).Add(lease);
                    }
                }
                else
                {
                    (lost ??= []).Add(lease);
                }
            }
        }

        return Task.FromResult(lost is null && cancel is null ? LeaseRenewalResult.None : new LeaseRenewalResult(lost ?? [], cancel ?? []));
    }

    /// <inheritdoc />
    public Task<int> RescueExpiredLeasesAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<int>(cancellationToken);
        }

        var now = _time.GetUtcNow();
        var rescued = 0;
        List<(string Name, JobState Next)>? decided = null; // started attempts, counted as RescueTelemetry says
        lock (_gate)
        {
            foreach (var entry in _jobs.Values.ToArray())
            {
                if (entry.RemoveWhenReleased && !HoldsKey(entry, now))
                {
                    // Kept only while its unique key held, under a retention that drops its state: the hold is over.
                    _jobs.Remove(entry.Id);
                    continue;
                }

                if (entry.State != JobState.Processing || entry.LeaseExpiresAt is not { } expires || expires > now)
                {
                    continue;
                }

                rescued++;
                if (RemoveIfDeleted(entry))
                {
                    if (entry.StartedAt is not null)
                    {
                        (decided ??= []).Add((entry.Name, JobState.Cancelled)); // as the worker counts a delete while running
                    }

                    continue;
                }

                entry.LastModified = now;
                entry.LeaseExpiresAt = null;
                entry.LeaseToken = null;
                if (entry.StartedAt is null && !entry.CancelRequested)
                {
                    // Claimed but never started (a prefetch buffer whose worker died): the attempt is given back.
                    entry.Attempts = Math.Max(entry.Attempts - 1, 0);
                    Requeue(entry, JobState.Retrying, now);
                    continue;
                }

                var started = entry.StartedAt is not null;
                entry.LastError = $"Jobs.Sdk.LeaseExpired: worker {entry.WorkerId ?? "?"} stopped renewing the lease of attempt {entry.Attempts} of {entry.MaxAttempts}.";
                entry.AddError(entry.Attempts, now, entry.LastError);
                JobState next;
                if (entry.CancelRequested)
                {
                    entry.CancelRequested = false;
                    Finish(entry, next = JobState.Cancelled, _options.Retention.CancelledJobs, now, null);
                }
                else if (entry.Attempts < entry.MaxAttempts)
                {
                    Requeue(entry, next = JobState.Retrying, now);
                }
                else
                {
                    Finish(entry, next = JobState.Failed, _options.Retention.FailedJobs, now, entry.LastError);
                }

                if (started)
                {
                    (decided ??= []).Add((entry.Name, next));
                }
            }

            if (rescued > 0)
            {
                Signal();
            }

            ForgetGoneHolders();
        }

        foreach (var (name, next) in decided ?? [])
        {
            RescueTelemetry.Count(this, QueueName, name, next, 1, ((IJobDriver)this).MetricTags);
        }

        return Task.FromResult(rescued);
    }
}
