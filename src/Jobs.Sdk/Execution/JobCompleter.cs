using System.Threading.Channels;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// Records the outcomes of a worker's jobs in batches: whatever finished while the previous batch was written goes in
/// the next one (at most <see cref="MaxBatch"/>). A failed write is retried with backoff, so an outcome is kept until it
/// is written. After a batch is written, its jobs' leases are released and their <see cref="JobRunResult.OnRecorded"/>
/// observers run.
/// </summary>
internal sealed class JobCompleter
{
    private const int MaxBatch = 2000;

    private readonly IJobDriver _driver;
    private readonly string _workerId;
    private readonly JobLeaseKeeper _leases;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<JobRunResult> _outcomes = Channel.CreateUnbounded<JobRunResult>(new UnboundedChannelOptions { SingleReader = true });

    public JobCompleter(IJobDriver driver, string workerId, JobLeaseKeeper leases, TimeProvider time, ILogger logger)
    {
        _driver = driver;
        _workerId = workerId;
        _leases = leases;
        _time = time;
        _logger = logger;
    }

    /// <summary>Queues an outcome (and its after-write observers) for the next batch.</summary>
    public void Report(JobOutcome outcome, Func<CancellationToken, ValueTask>? onRecorded = null)
        => _outcomes.Writer.TryWrite(new JobRunResult(outcome, onRecorded));

    /// <summary>No more outcomes will be reported: <see cref="RunAsync"/> ends once the queued ones are written.</summary>
    public void Complete() => _outcomes.Writer.TryComplete();

    /// <summary>The write loop; ends after <see cref="Complete"/> when every queued outcome is recorded.</summary>
    public async Task RunAsync()
    {
        var reader = _outcomes.Reader;
        var batch = new List<JobRunResult>(256);
        var outcomes = new List<JobOutcome>(256);
        var failures = 0;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var result))
            {
                batch.Add(result);
                outcomes.Add(result.Outcome!.Value);
            }

            while (true)
            {
                try
                {
                    await _driver.CompleteAsync(_workerId, outcomes, CancellationToken.None).ConfigureAwait(false);
                    failures = 0;
                    break;
                }
                catch (Exception ex)
                {
                    var delay = WorkerDelay.Backoff(++failures);
                    Log.CompleteFailed(_logger, ex, outcomes.Count, delay);
                    await WorkerDelay.DelayAsync(delay, _time, CancellationToken.None).ConfigureAwait(false);
                }
            }

            foreach (var outcome in outcomes)
            {
                _leases.Release(outcome.Id);
            }

            foreach (var result in batch)
            {
                if (result.OnRecorded is { } onRecorded)
                {
                    await onRecorded(CancellationToken.None).ConfigureAwait(false);
                }
            }

            batch.Clear();
            outcomes.Clear();
        }
    }
}
