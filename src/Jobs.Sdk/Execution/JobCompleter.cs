using System.Threading.Channels;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// Records the outcomes of a worker's jobs in batches: whatever finished while the previous batch was written goes in
/// the next one (at most <see cref="MaxBatch"/>). After a batch is written, its claims' leases are released and their
/// <see cref="JobRunResult.OnRecorded"/> observers run, beside the write loop (an observer never holds up an outcome).
/// </summary>
/// <remarks>
/// <para>Outcomes are idempotent (a driver applies one only while its lease token still owns the job), so writing a
/// batch again after an ambiguous failure (the commit may have happened) is harmless.</para>
/// <para>No outcome blocks the others: error texts are sanitized (<see cref="JobErrorText"/>); a batch that fails twice is
/// written row by row, and a row that still fails is written with <see cref="JobErrorText.Rejected"/> in place of its
/// error. Only a row that fails even so (the store is away) is retried, with backoff.</para>
/// <para>The backlog is bounded: the claim loop waits in <see cref="WaitForRoomAsync"/> while it is full.</para>
/// </remarks>
internal sealed class JobCompleter
{
    /// <summary>The most outcomes written in one statement.</summary>
    public const int MaxBatch = 2000;

    private readonly IJobDriver _driver;
    private readonly string _workerId;
    private readonly JobLeaseKeeper _leases;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _maxBacklog;
    private readonly Channel<JobRunResult> _outcomes = Channel.CreateUnbounded<JobRunResult>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _roomGate = new();
    private readonly HashSet<Task> _observing = [];
    private TaskCompletionSource _room = NewRoom();
    private int _backlog;

    public JobCompleter(IJobDriver driver, string workerId, JobLeaseKeeper leases, TimeProvider time, ILogger logger, int maxBacklog = 4 * MaxBatch)
    {
        _driver = driver;
        _workerId = workerId;
        _leases = leases;
        _time = time;
        _logger = logger;
        _maxBacklog = maxBacklog;
    }

    /// <summary>Counts the written batches' completed and failed jobs per minute (null: not counted).</summary>
    public JobThroughputCounter? Throughput { get; init; }

    /// <summary>Outcomes reported and not yet written.</summary>
    public int Backlog => Volatile.Read(ref _backlog);

    /// <summary>Queues an outcome (and its after-write observers) for the next batch.</summary>
    public void Report(JobOutcome outcome, Func<CancellationToken, ValueTask>? onRecorded = null)
    {
        Interlocked.Increment(ref _backlog);
        if (!_outcomes.Writer.TryWrite(new JobRunResult(outcome with { Error = JobErrorText.Sanitize(outcome.Error), StackTrace = JobErrorText.Sanitize(outcome.StackTrace) }, onRecorded)))
        {
            Interlocked.Decrement(ref _backlog);
        }
    }

    /// <summary>Returns once the backlog is under its bound (claiming more would only grow it).</summary>
    public Task WaitForRoomAsync(CancellationToken cancellationToken)
    {
        lock (_roomGate)
        {
            if (Backlog < _maxBacklog)
            {
                return Task.CompletedTask;
            }

            if (_room.Task.IsCompleted)
            {
                _room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return _room.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>No more outcomes will be reported: <see cref="RunAsync"/> ends once the queued ones are written.</summary>
    public void Complete() => _outcomes.Writer.TryComplete();

    /// <summary>The write loop; ends after <see cref="Complete"/> when every queued outcome is recorded.</summary>
    public async Task RunAsync()
    {
        var reader = _outcomes.Reader;
        var batch = new List<JobRunResult>(256);
        var outcomes = new List<JobOutcome>(256);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var result))
            {
                batch.Add(result);
                outcomes.Add(result.Outcome!.Value);
            }

            await WriteAsync(outcomes).ConfigureAwait(false);
            Throughput?.Record(outcomes, _time.GetUtcNow());
            foreach (var outcome in outcomes)
            {
                _leases.Release(outcome.LeaseToken);
            }

            Interlocked.Add(ref _backlog, -outcomes.Count);
            lock (_roomGate)
            {
                if (Backlog < _maxBacklog)
                {
                    _room.TrySetResult();
                }
            }

            ObserveRecorded(batch);
            batch.Clear();
            outcomes.Clear();
        }

        // Every outcome is written: the loop ends once the observers of the last batches have run too.
        Task[] observing;
        lock (_observing)
        {
            observing = [.. _observing];
        }

        await Task.WhenAll(observing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>
    /// Runs the batch's after-write observers (in batch order) beside the write loop: an observer that is slow or never
    /// returns (a webhook call without a timeout) delays only the observers after it in its batch, never the outcomes
    /// of the worker's other jobs.
    /// </summary>
    private void ObserveRecorded(List<JobRunResult> batch)
    {
        List<Func<CancellationToken, ValueTask>>? observers = null;
        foreach (var result in batch)
        {
            if (result.OnRecorded is { } onRecorded)
            {
                (observers ??= []).Add(onRecorded);
            }
        }

        if (observers is null)
        {
            return;
        }

        var task = Task.Run(async () =>
        {
            foreach (var observe in observers)
            {
                await observe(CancellationToken.None).ConfigureAwait(false);
            }
        });
        lock (_observing)
        {
            _observing.Add(task);
        }

        task.ContinueWith(static (t, state) =>
        {
            var set = (HashSet<Task>)state!;
            lock (set)
            {
                set.Remove(t);
            }
        }, _observing, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task WriteAsync(List<JobOutcome> outcomes)
    {
        if (await TryWriteAsync(outcomes).ConfigureAwait(false) || await TryWriteAsync(outcomes).ConfigureAwait(false))
        {
            return;
        }

        // Twice failed: find the row the store rejects. Each row is written alone; a rejected one once more with a
        // replacement error; only a row that fails even so (the store is away) is retried, with backoff, until written.
        for (var i = 0; i < outcomes.Count; i++)
        {
            var original = new[] { outcomes[i] };
            var replaced = new[] { outcomes[i] with { Error = JobErrorText.Rejected, StackTrace = null } };
            for (var failures = 0; ; )
            {
                if (await TryWriteAsync(original, backoff: false).ConfigureAwait(false))
                {
                    break;
                }

                if (await TryWriteAsync(replaced, backoff: false).ConfigureAwait(false))
                {
                    Log.OutcomeRejected(_logger, outcomes[i].Id, outcomes[i].Kind);
                    break;
                }

                await WorkerDelay.DelayAsync(WorkerDelay.Backoff(++failures), _time, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task<bool> TryWriteAsync(IReadOnlyList<JobOutcome> outcomes, bool backoff = true)
    {
        try
        {
            await _driver.CompleteAsync(_workerId, outcomes, CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            var delay = backoff ? WorkerDelay.Backoff(1) : TimeSpan.Zero;
            Log.CompleteFailed(_logger, ex, outcomes.Count, delay);
            if (backoff)
            {
                await WorkerDelay.DelayAsync(delay, _time, CancellationToken.None).ConfigureAwait(false);
            }

            return false;
        }
    }

    private static TaskCompletionSource NewRoom()
    {
        var room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        room.SetResult();
        return room;
    }
}
