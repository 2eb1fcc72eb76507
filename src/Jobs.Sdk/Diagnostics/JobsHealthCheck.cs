using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Jobs.Sdk;

/// <summary>Settings of <see cref="JobsHealthCheck"/>.</summary>
public sealed class JobsHealthCheckOptions
{
    /// <summary>How long the store may take to answer (readiness and a count query). Default 5 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the worker's claim loop and heartbeat may go unseen before the worker is reported dead.
    /// <see langword="null"/> (the default) uses the worker's <see cref="JobWorkerOptions.LeaseDuration"/>: the heartbeat
    /// runs every third of it, so three missed beats.
    /// </summary>
    public TimeSpan? WorkerStaleAfter { get; set; }

    /// <summary>Whether to check the <see cref="JobWorker"/> when one is registered. Default <see langword="true"/>.</summary>
    public bool CheckWorker { get; set; } = true;
}

/// <summary>
/// A driver-agnostic health check for a job queue: the store is ready (migrations applied) and answers a count query
/// within <see cref="JobsHealthCheckOptions.Timeout"/>, and the worker (when this process runs one) has started and its
/// loops ran recently, as have those of every other queue it serves (<c>AddQueue</c>). Register it with <c>services.AddHealthChecks().AddJobsHealthCheck()</c>.
/// </summary>
/// <remarks>
/// Failures are reported with the registration's failure status (<see cref="HealthStatus.Unhealthy"/> by default); a
/// worker that started but has not run its loop yet is <see cref="HealthStatus.Degraded"/>. The result's data carries
/// the queue name, the job counts per state and the worker's liveness.
/// </remarks>
public sealed class JobsHealthCheck : IHealthCheck
{
    private readonly IJobDriver _driver;
    private readonly JobWorker? _worker;
    private readonly JobsHealthCheckOptions _options;

    internal JobsHealthCheck(JobsRuntime runtime, JobWorker? worker = null, JobsHealthCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        _driver = runtime.Driver;
        _worker = worker;
        _options = options ?? new JobsHealthCheckOptions();
        if (_options.Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.Timeout, "JobsHealthCheckOptions.Timeout must be positive.");
        }
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var failure = context.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        var data = new Dictionary<string, object> { ["queue"] = _driver.QueueName };

        // 1. Ready: migrations done (or failed, which no retry fixes). A wait or query that outlives the timeout is no longer
        // waited for: its later fault is observed (the driver logs its own failures; the next probe reports it).
        try
        {
            await _driver.WaitUntilReadyAsync(cancellationToken).ObserveFault().WaitAsync(_options.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return new HealthCheckResult(failure, $"Job queue '{_driver.QueueName}' is not ready after {_options.Timeout} (migrations still running?).", data: data);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            return new HealthCheckResult(failure, $"Job queue '{_driver.QueueName}' is not ready: {ex.Message}", ex, data);
        }

        // 2. Reachable: a cheap count query answers in time.
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.Timeout);
            var counts = await _driver.GetCountsAsync(timeout.Token).ObserveFault().WaitAsync(_options.Timeout, cancellationToken).ConfigureAwait(false);
            data["pending"] = counts.Pending;
            data["processing"] = counts.Processing;
            data["retrying"] = counts.Retrying;
            data["failed"] = counts.Failed;
            data["paused"] = counts.Paused;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            return new HealthCheckResult(failure, $"Job store of queue '{_driver.QueueName}' did not answer within {_options.Timeout}.", ex, data);
        }
        catch (Exception ex)
        {
            return new HealthCheckResult(failure, $"Job store of queue '{_driver.QueueName}' is unreachable: {ex.Message}", ex, data);
        }

        // 3. Worker alive: started, not stopped, and its claim loop or heartbeat ran recently.
        if (_worker is null || !_options.CheckWorker)
        {
            return HealthCheckResult.Healthy($"Job queue '{_driver.QueueName}' is ready.", data);
        }

        data["workerId"] = _worker.WorkerId;
        if (!_worker.IsStarted)
        {
            return new HealthCheckResult(failure, $"Job worker {_worker.WorkerId} was not started.", data: data);
        }

        // The worker and the worker of every other queue it serves (AddQueue): each must be running and recently alive.
        HealthCheckResult? starting = null;
        foreach (var worker in (IEnumerable<JobWorker>)[_worker, .. _worker.Lanes])
        {
            var queue = worker == _worker ? null : $" (queue '{worker.QueueName}')";
            if (worker.Completion.IsCompleted)
            {
                return new HealthCheckResult(failure, $"Job worker {worker.WorkerId}{queue} has stopped.", worker.Completion.Exception?.GetBaseException(), data);
            }

            if (worker.TimeSinceAlive is not { } sinceAlive)
            {
                starting ??= HealthCheckResult.Degraded($"Job worker {worker.WorkerId}{queue} is starting.", data: data);
                continue;
            }

            if (worker == _worker)
            {
                data["workerLastSeenSeconds"] = sinceAlive.TotalSeconds;
            }

            var staleAfter = _options.WorkerStaleAfter ?? worker.LeaseDuration;
            if (sinceAlive > staleAfter)
            {
                return new HealthCheckResult(failure,
                    $"Job worker {worker.WorkerId}{queue} has not run its claim loop or heartbeat for {sinceAlive} (limit {staleAfter}).", data: data);
            }
        }

        if (starting is { } result)
        {
            return result;
        }

        return HealthCheckResult.Healthy($"Job queue '{_driver.QueueName}' is ready and worker {_worker.WorkerId} is running.", data);
    }
}
