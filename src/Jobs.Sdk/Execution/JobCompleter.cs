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
/// <para>While the store is away (<see cref="IJobDriver.IsStoreUnavailable"/>: a failover, a restart), each pass tries the
/// whole batch (twice at once: the second on a new connection) and backs it off, with one warning, and outcomes reported
/// meanwhile wait for the next pass.</para>
/// <para>No outcome blocks the others: error texts are sanitized (<see cref="JobErrorText"/>); a batch the store (up)
/// refuses twice is written row by row, and a row that still fails is written with <see cref="JobErrorText.Rejected"/> in place of its
/// error. A row that fails even so is retried with a backoff of its own (its lease kept), while the later outcomes are
/// written (see <see cref="WriteAsync"/>).</para>
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
    private readonly CancellationTokenSource _abandon = new();
    private readonly CancellationTokenSource _stopObservers = new(); // the observers' token: the stop stopped waiting for them
    private TaskCompletionSource _room = NewRoom();
    private int _backlog;
    private int _away; // consecutive passes that wrote nothing (the store is likely away)
    private long _awayUntil; // while the store is away, outcomes reported meanwhile wait until then (the next pass)

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

    /// <summary>Told of each write that got through (null: not told). A failed one is not told: the store may reject that row alone.</summary>
    public StoreWrites? Writes { get; init; }

    /// <summary>The failure of the last write that failed (read by the write loop only).</summary>
    private Exception? _lastFailure;

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

    /// <summary>
    /// Stops writing (the worker's stop gave up waiting: the store is away or gone for good): <see cref="RunAsync"/> ends
    /// at once, without retrying what is unwritten. Those jobs keep their leases until they expire and the rescue requeues them.
    /// </summary>
    /// <remarks>Not waiting for the token's callbacks: a write stuck on a connection that cannot reach the server runs Npgsql's
    /// cancellation (a cancel request on a new connection, up to its connection timeout) in its callback.</remarks>
    public void Abandon() => _abandon.CancelInBackground(_logger, $"worker {_workerId}'s outcome writer");

    /// <summary>
    /// The after-write observers still running (<see cref="JobRunResult.OnRecorded"/>), ended when they have: the worker's
    /// stop waits for them within its bounds, apart from the write loop (an observer that never returns must not keep the
    /// outcomes from counting as written, nor the stop from ending).
    /// </summary>
    public Task ObserversAsync()
    {
        lock (_observing)
        {
            return _observing.Count == 0 ? Task.CompletedTask : Task.WhenAll([.. _observing]);
        }
    }

    /// <summary>Cancels the observers' token: the stop stopped waiting for them (not waiting for its callbacks, as <see cref="Abandon"/>).</summary>
    public void StopObserving() => _stopObservers.CancelInBackground(_logger, $"worker {_workerId}'s completion observers");

    /// <summary>The write loop; ends after <see cref="Complete"/> when every queued outcome is recorded.</summary>
    public async Task RunAsync()
    {
        var reader = _outcomes.Reader;
        var waiting = new List<Pending>(256); // reported, not yet written: new ones, and rows waiting out a backoff
        var open = true;
        var abandon = _abandon.Token;
        while (!abandon.IsCancellationRequested)
        {
            while (waiting.Count < MaxBatch && reader.TryRead(out var result))
            {
                waiting.Add(new Pending(result) { NotBefore = _awayUntil });
            }

            var now = _time.GetTimestamp();
            var due = Due(waiting, now);
            if (due.Count == 0)
            {
                if (!open && waiting.Count == 0)
                {
                    break;
                }

                // Wait for new outcomes (unless as many wait already as one batch takes) or the first backoff's end.
                TimeSpan? untilDue = waiting.Count == 0 ? null : _time.GetElapsedTime(now, waiting.Min(static w => w.NotBefore));
                if (open && waiting.Count < MaxBatch)
                {
                    open = await WaitForOutcomesAsync(reader, untilDue, abandon).ConfigureAwait(false);
                }
                else
                {
                    await WorkerDelay.DelayAsync(untilDue ?? TimeSpan.Zero, _time, abandon).ConfigureAwait(false);
                }

                continue;
            }

            await WriteAsync(due).ConfigureAwait(false);
            var written = due.Where(static w => w.Written).ToList();
            if (written.Count == 0)
            {
                continue;
            }

            waiting.RemoveAll(static w => w.Written);
            var outcomes = written.ConvertAll(static w => w.Result.Outcome!.Value);
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

            ObserveRecorded(written.ConvertAll(static w => w.Result));
        }

        // Every outcome is written (or the stop stopped waiting): the observers of the last batches may still run, and the
        // stop waits for them on its own (ObserversAsync).
    }

    /// <summary>The outcomes of <paramref name="waiting"/> due at <paramref name="now"/> (at most a batch), fewest failures first.</summary>
    private static List<Pending> Due(List<Pending> waiting, long now)
    {
        var due = new List<Pending>(Math.Min(waiting.Count, MaxBatch));
        var failed = false;
        foreach (var w in waiting)
        {
            if (w.NotBefore <= now)
            {
                due.Add(w);
                failed |= w.Failures > 0;
                if (due.Count == MaxBatch)
                {
                    break;
                }
            }
        }

        if (failed)
        {
            due.Sort(static (a, b) => a.Failures.CompareTo(b.Failures));
        }

        return due;
    }

    /// <summary>Waits for new outcomes, or until <paramref name="delay"/> has passed; returns whether the channel is still open.</summary>
    private async Task<bool> WaitForOutcomesAsync(ChannelReader<JobRunResult> reader, TimeSpan? delay, CancellationToken abandon)
    {
        try
        {
            if (delay is not { } wait)
            {
                return await reader.WaitToReadAsync(abandon).ConfigureAwait(false);
            }

            using var timeout = new CancellationTokenSource(wait, _time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, abandon);
            return await reader.WaitToReadAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return true; // the delay passed (or the completer was abandoned: the loop ends)
        }
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

        var stop = _stopObservers.Token;
        var task = Task.Run(async () =>
        {
            foreach (var observe in observers)
            {
                await observe(stop).ConfigureAwait(false);
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

    /// <summary>
    /// Writes <paramref name="due"/> (fewest failures first) and marks what got written. A batch that fails because the
    /// store is away (<see cref="IJobDriver.IsStoreUnavailable"/>) is tried once more at once (on a new connection: the
    /// store may be back, the failure a connection it dropped meanwhile), then waits out a backoff whole: trying it again
    /// after a wait of its own, or row by row, would only meet the outage again (a round trip and a warning each). A batch
    /// the store refuses twice is written row by row; a row the store still refuses (not one that met an outage) is written
    /// once more with <see cref="JobErrorText.Rejected"/> in place of its error. A row that fails even so waits out a
    /// backoff of its own while the others go on: after a row was written in this pass, the store is up and rejects that
    /// row (a trigger, a policy), so the rows behind it are tried; when nothing was written yet, the store is likely away,
    /// and the untried rows wait too.
    /// </summary>
    private async Task WriteAsync(List<Pending> due)
    {
        var outcomes = due.ConvertAll(static w => w.Result.Outcome!.Value);
        for (var attempt = 1; ; attempt++)
        {
            if (await TryWriteAsync(outcomes, log: false).ConfigureAwait(false))
            {
                due.ForEach(static w => w.Written = true);
                StoreWrites();
                return;
            }

            if (_abandon.IsCancellationRequested)
            {
                return;
            }

            if (_lastFailure is { } failure && _driver.IsStoreUnavailable(failure))
            {
                if (attempt == 1)
                {
                    // Once more at once, without a warning: the failure may be a connection the store dropped while it
                    // was away (a restart, a failover) still idle in the pool, whose first use fails although the store is
                    // back. The driver drops a broken connection (Npgsql clears the pool's idle ones with it), so this try
                    // is on a new one; backing off instead would delay the first outcome after the store came back by a
                    // backoff step, past the rescue that waits only one (JobWorker's AfterOutage).
                    continue;
                }

                // The one warning of this pass, with the delay it waits.
                BackOff(due, 0, failure);
                return;
            }

            if (attempt == 2)
            {
                Log.CompleteFailed(_logger, _lastFailure!, outcomes.Count, TimeSpan.Zero);
                break;
            }

            var delay = WorkerDelay.Backoff(1);
            Log.CompleteFailed(_logger, _lastFailure!, outcomes.Count, delay);
            await WorkerDelay.DelayAsync(delay, _time, _abandon.Token).ConfigureAwait(false);
        }

        var anyWritten = false;
        for (var i = 0; i < due.Count; i++)
        {
            var row = due[i];
            var outcome = outcomes[i];
            if (await TryWriteAsync([outcome]).ConfigureAwait(false))
            {
                row.Written = anyWritten = true;
                continue;
            }

            // The replacement error is for a row the store refuses; a store that is away (it may be back by the next
            // attempt) would record it in place of the job's real error.
            if (_lastFailure is { } failure && !_driver.IsStoreUnavailable(failure)
                && await TryWriteAsync([outcome with { Error = JobErrorText.Rejected, StackTrace = null }]).ConfigureAwait(false))
            {
                Log.OutcomeRejected(_logger, outcome.Id, outcome.Kind);
                row.Written = anyWritten = true;
                continue;
            }

            row.Failures++;
            row.NotBefore = _time.GetTimestamp() + ToTicks(WorkerDelay.Backoff(row.Failures));
            if (!anyWritten)
            {
                BackOff(due, i + 1, failure: null);
                return;
            }
        }

        StoreWrites();
    }

    /// <summary>A write worked: the next failure starts the backoff over, and outcomes reported from now on do not wait.</summary>
    private void StoreWrites()
    {
        _away = 0;
        _awayUntil = 0;
    }

    /// <summary>
    /// Nothing was written in this pass (the store is likely away): the rows of <paramref name="due"/> from
    /// <paramref name="from"/> on, and the outcomes reported meanwhile, wait for the next pass, each pass longer. With
    /// <paramref name="failure"/>, logs the pass's warning.
    /// </summary>
    private void BackOff(List<Pending> due, int from, Exception? failure)
    {
        _away++;
        var delay = WorkerDelay.Backoff(_away);
        if (failure is not null)
        {
            Log.CompleteFailed(_logger, failure, due.Count - from, delay);
        }

        _awayUntil = _time.GetTimestamp() + ToTicks(delay);
        for (var j = from; j < due.Count; j++)
        {
            due[j].NotBefore = _awayUntil;
        }
    }

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    /// <summary>Writes <paramref name="outcomes"/>; a failure is kept in <see cref="_lastFailure"/> and, with <paramref name="log"/>, logged.</summary>
    private async Task<bool> TryWriteAsync(IReadOnlyList<JobOutcome> outcomes, bool log = true)
    {
        try
        {
            await _driver.CompleteAsync(_workerId, outcomes, _abandon.Token).ConfigureAwait(false);
            Writes?.Worked();
            return true;
        }
        catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex)
        {
            _lastFailure = ex;
            if (log)
            {
                Log.CompleteFailed(_logger, ex, outcomes.Count, TimeSpan.Zero);
            }

            return false;
        }
    }

    /// <summary>An outcome on its way to the store: how often it failed alone, and when it may be tried again.</summary>
    private sealed class Pending(JobRunResult result)
    {
        public JobRunResult Result { get; } = result;

        public int Failures { get; set; }

        public long NotBefore { get; set; }

        public bool Written { get; set; }
    }

    private static TaskCompletionSource NewRoom()
    {
        var room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        room.SetResult();
        return room;
    }
}
