using System.Collections.Concurrent;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// What a worker holds and keeps alive: the jobs it owns (claimed, outcome not yet recorded) and the ones running now; the
/// heartbeat that renews their leases every third of the lease and cancels what it lost or what a user cancelled; and the
/// worker's liveness (when its loops last ran), read by the health check.
/// </summary>
/// <remarks>
/// Without a successful renewal for a whole lease (the store is unreachable), other workers may rescue this worker's
/// jobs, so the keeper cancels every running job here: no job ever runs twice at once.
/// </remarks>
internal sealed class JobLeaseKeeper
{
    private readonly IJobDriver _driver;
    private readonly string _workerId;
    private readonly TimeSpan _leaseDuration;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<JobId, JobRun> _running = new();
    private readonly ConcurrentDictionary<JobId, byte> _owned = new();
    private long _lastRenewalTicks;
    private long _lastAliveTimestamp;

    public JobLeaseKeeper(IJobDriver driver, string workerId, TimeSpan leaseDuration, TimeProvider time, ILogger logger)
    {
        _driver = driver;
        _workerId = workerId;
        _leaseDuration = leaseDuration;
        _time = time;
        _logger = logger;
    }

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

    /// <summary>A claim was just granted: the lease counts from now.</summary>
    public void Claimed(JobRun run)
    {
        _owned[run.Job.Id] = 0;
        _running[run.Job.Id] = run;
    }

    /// <summary>The job's handler ended (or it left the buffer); its lease is held until <see cref="Release"/>.</summary>
    public void Ended(JobId id) => _running.TryRemove(id, out _);

    /// <summary>The job's outcome is recorded, or there is none to record: stop renewing its lease.</summary>
    public void Release(JobId id) => _owned.TryRemove(id, out _);

    /// <summary>A user cancelled a job: cancel its handler when it runs here.</summary>
    public void CancelRequested(JobId id)
    {
        if (_running.TryGetValue(id, out var run))
        {
            run.Cancel(CancelReason.UserCancel);
        }
    }

    /// <summary>The heartbeat loop, until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        Interlocked.Exchange(ref _lastRenewalTicks, _time.GetTimestamp());
        var interval = _leaseDuration / 3;
        while (!stop.IsCancellationRequested)
        {
            await WorkerDelay.DelayAsync(interval, _time, stop).ConfigureAwait(false);
            if (stop.IsCancellationRequested)
            {
                break;
            }

            MarkAlive();
            var owned = _owned.Keys.ToArray();
            if (owned.Length == 0)
            {
                Interlocked.Exchange(ref _lastRenewalTicks, _time.GetTimestamp());
                continue;
            }

            try
            {
                var result = await _driver.RenewLeasesAsync(_workerId, owned, _leaseDuration, stop).ConfigureAwait(false);
                Interlocked.Exchange(ref _lastRenewalTicks, _time.GetTimestamp());
                foreach (var id in result.Lost)
                {
                    if (_running.TryGetValue(id, out var run))
                    {
                        Log.LeaseLost(_logger, id);
                        run.Cancel(CancelReason.LeaseLost);
                    }
                }

                foreach (var id in result.CancelRequested)
                {
                    CancelRequested(id);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Log.RenewFailed(_logger, ex);
                if (_time.GetElapsedTime(Interlocked.Read(ref _lastRenewalTicks)) >= _leaseDuration)
                {
                    foreach (var run in _running.Values)
                    {
                        Log.LeaseLost(_logger, run.Job.Id);
                        run.Cancel(CancelReason.LeaseLost);
                    }
                }
            }
        }
    }
}
