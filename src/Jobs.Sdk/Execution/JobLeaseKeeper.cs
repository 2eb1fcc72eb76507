using System.Collections.Concurrent;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// What a worker holds and keeps alive: the claims it owns (claimed, outcome not yet recorded) and the ones running now,
/// each keyed by its lease token; the heartbeat that renews their leases every third of the lease and cancels what it
/// lost or what a user cancelled; the local lease watchdog; and the worker's liveness (when its loops last ran), read by
/// the health check.
/// </summary>
/// <remarks>
/// The watchdog needs no answer from the store: a lease granted or renewed by a request <em>sent</em> at time t ends on
/// the server no earlier than t + lease, so every handler whose last such t + lease − <see cref="SafetyMargin"/> has passed
/// is cancelled (reason: lease lost) before another worker can rescue its job. A renewal that hangs (a partition that drops
/// packets) is abandoned after <see cref="RenewalTimeout"/>, well under the renewal interval.
/// </remarks>
internal sealed class JobLeaseKeeper
{
    private readonly IJobDriver _driver;
    private readonly string _workerId;
    private readonly TimeSpan _leaseDuration;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Guid, JobRun> _running = new();
    private readonly ConcurrentDictionary<Guid, JobId> _owned = new();
    private readonly EarlyCancels _early;
    private long _lastAliveTimestamp;

    public JobLeaseKeeper(IJobDriver driver, string workerId, TimeSpan leaseDuration, TimeProvider time, ILogger logger)
    {
        _driver = driver;
        _workerId = workerId;
        _leaseDuration = leaseDuration;
        _time = time;
        _logger = logger;
        _early = new EarlyCancels(leaseDuration, time);
    }

    /// <summary>Told of each renewal that got through or failed (null: not told).</summary>
    public StoreWrites? Writes { get; init; }

    /// <summary>How long before the server-side end of a lease the watchdog cancels its handler: a sixth of the lease.</summary>
    public TimeSpan SafetyMargin => _leaseDuration / 6;

    /// <summary>How long one renewal may take before it is abandoned: a quarter of the lease (renewals run every third).</summary>
    public TimeSpan RenewalTimeout => _leaseDuration / 4;

    /// <summary>Number of jobs running (or waiting in the prefetch buffer) now.</summary>
    public int RunningCount => _running.Count;

    /// <summary>Whether no claimed job is running or buffered.</summary>
    public bool IsIdle => _running.IsEmpty;

    /// <summary>The jobs running (or buffered) now.</summary>
    public JobRun[] Running => _running.Values.ToArray();

    /// <summary>
    /// Time since the claim loop or the heartbeat last ran; <see langword="null"/> when neither has run yet.
    /// </summary>
    public TimeSpan? TimeSinceAlive
    {
        get
        {
            var last = Interlocked.Read(ref _lastAliveTimestamp);
            return last == 0 ? null : _time.GetElapsedTime(last);
        }
    }

    /// <summary>Records that a worker loop is running (the claim loop and the heartbeat call it).</summary>
    public void MarkAlive() => Interlocked.Exchange(ref _lastAliveTimestamp, Math.Max(_time.GetTimestamp(), 1));

    /// <summary>The local end of a lease granted or renewed by a request sent at <paramref name="sentTimestamp"/>.</summary>
    public long LocalLeaseEnd(long sentTimestamp) => sentTimestamp + ToTicks(_leaseDuration - SafetyMargin);

    /// <summary>A claim sent at <paramref name="sentTimestamp"/> was granted: the lease counts from the moment it was sent.</summary>
    public void Claimed(JobRun run, long sentTimestamp)
    {
        run.ExtendLease(LocalLeaseEnd(sentTimestamp));
        _owned[run.Job.LeaseToken] = run.Job.Id;
        _running[run.Job.LeaseToken] = run;
        // After it is registered: a cancel heard before now is found here, one heard after finds the run (CancelRequested).
        if (_early.TakeFor(run.Job.LeaseToken, run.Job.Id))
        {
            run.Cancel(CancelReason.UserCancel);
        }
    }

    /// <summary>The job's handler ended (or it left the buffer); its lease is held until <see cref="Release"/>.</summary>
    public void Ended(JobRun run) => _running.TryRemove(new KeyValuePair<Guid, JobRun>(run.Job.LeaseToken, run));

    /// <summary>The claim's outcome is recorded, or there is none to record: stop renewing its lease.</summary>
    public void Release(Guid leaseToken) => _owned.TryRemove(leaseToken, out _);

    /// <summary>
    /// A user cancelled a job while claim <see cref="JobLease.LeaseToken"/> ran it: cancel that claim's handler when it
    /// runs here. A cancel of an earlier claim never touches a later claim of the same job. An empty token (a sender that
    /// does not say which claim) cancels whatever claim of the job runs here. The request is also remembered for a
    /// lease (<see cref="EarlyCancels"/>): a claim whose reply reaches this worker after its cancel was heard is
    /// cancelled as it is registered (<see cref="Claimed"/>), before its handler starts.
    /// </summary>
    public void CancelRequested(JobLease lease)
    {
        _early.Heard(lease); // first: a claim registered meanwhile finds it (Claimed registers, then looks)
        if (lease.LeaseToken != Guid.Empty)
        {
            if (_running.TryGetValue(lease.LeaseToken, out var claimed) && claimed.Job.Id == lease.Id)
            {
                claimed.Cancel(CancelReason.UserCancel);
            }

            return;
        }

        foreach (var run in _running.Values)
        {
            if (run.Job.Id == lease.Id)
            {
                run.Cancel(CancelReason.UserCancel);
            }
        }
    }

    /// <summary>The heartbeat loop, until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var interval = _leaseDuration / 3;
        while (!stop.IsCancellationRequested)
        {
            await WorkerDelay.DelayAsync(interval, _time, stop).ConfigureAwait(false);
            if (stop.IsCancellationRequested)
            {
                break;
            }

            MarkAlive();
            // A prefetched claim whose handler started reports it with this renewal (no round trip of its own).
            var owned = _owned.Select(o => new JobLease(o.Value, o.Key)
            {
                RunningFor = _running.TryGetValue(o.Key, out var run) ? run.UnrecordedRunningFor(_time) : null,
            }).ToArray();
            if (owned.Length == 0)
            {
                continue;
            }

            var sent = _time.GetTimestamp();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(RenewalTimeout);
            try
            {
                var result = await _driver.RenewLeasesAsync(_workerId, owned, _leaseDuration, timeout.Token).ConfigureAwait(false);
                Writes?.Worked();
                Renewed(owned, result, LocalLeaseEnd(sent));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The watchdog cancels the handlers whose lease ends before a renewal gets through.
                Writes?.Failed();
                Log.RenewFailed(_logger, ex);
            }
        }
    }

    /// <summary>The watchdog loop, until <paramref name="stop"/>: cancels handlers whose local lease end has passed.</summary>
    public async Task WatchAsync(CancellationToken stop)
    {
        var tick = TimeSpan.FromTicks(Math.Clamp(SafetyMargin.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(1).Ticks));
        while (!stop.IsCancellationRequested)
        {
            await WorkerDelay.DelayAsync(tick, _time, stop).ConfigureAwait(false);
            var now = _time.GetTimestamp();
            foreach (var run in _running.Values)
            {
                if (run.LeaseEnd <= now && run.Reason == CancelReason.None)
                {
                    Log.LeaseLost(_logger, run.Job.Id);
                    run.Cancel(CancelReason.LeaseLost);
                }
            }
        }
    }

    private void Renewed(JobLease[] renewed, LeaseRenewalResult result, long leaseEnd)
    {
        var lost = result.Lost.Count == 0 ? null : result.Lost.Select(static l => l.LeaseToken).ToHashSet();
        // Still owned but not renewed (another session held the row): the lease keeps its end, the next renewal tries again.
        var notRenewed = result.NotRenewed.Count == 0 ? null : result.NotRenewed.Select(static l => l.LeaseToken).ToHashSet();
        foreach (var lease in renewed)
        {
            if (!_running.TryGetValue(lease.LeaseToken, out var run))
            {
                continue;
            }

            if (lost is not null && lost.Contains(lease.LeaseToken))
            {
                Log.LeaseLost(_logger, lease.Id);
                run.Cancel(CancelReason.LeaseLost);
            }
            else if (notRenewed is null || !notRenewed.Contains(lease.LeaseToken))
            {
                run.ExtendLease(leaseEnd);
                if (lease.RunningFor is not null)
                {
                    run.RecordStart();
                }
            }
        }

        foreach (var lease in result.CancelRequested)
        {
            if (_running.TryGetValue(lease.LeaseToken, out var run))
            {
                run.Cancel(CancelReason.UserCancel);
            }
        }
    }

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);
}
