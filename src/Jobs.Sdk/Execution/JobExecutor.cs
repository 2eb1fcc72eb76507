using System.Globalization;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// Turns one claimed job into one outcome: find its definition, decode the payload, apply the timeout, run the pop
/// observers, open a DI scope, run the handler inside the middleware, and decide completed / retry / reschedule / failed /
/// cancelled / released. No loops and no shared state: a test can drive it with a hand-made <see cref="JobRun"/>.
/// </summary>
/// <remarks>
/// Typed end to end: <see cref="JobDefinition.RunAsync"/> dispatches to <see cref="ExecuteAsync{TJob}"/>, so the decoded
/// job is a <c>TJob</c> from payload to handler. Observer hooks that report a stored fact (retry pushed,
/// job completed) are returned in <see cref="JobRunResult.OnRecorded"/> for the completer to run after the write.
/// </remarks>
internal sealed class JobExecutor
{
    private readonly JobsRuntime _runtime;
    private readonly IServiceScopeFactory _scopeFactory;
    private readonly ILogger _logger;

    public JobExecutor(JobsRuntime runtime, IServiceScopeFactory scopeFactory, string workerId, ILogger logger)
    {
        _runtime = runtime;
        _scopeFactory = scopeFactory;
        WorkerId = workerId;
        _logger = logger;
    }

    public string WorkerId { get; }

    private string QueueName => _runtime.QueueName;

    private MiddlewarePipeline Pipeline => _runtime.Pipeline;

    /// <summary>Runs <paramref name="run"/>'s attempt and returns its outcome; never throws for a handler's failure.</summary>
    public async Task<JobRunResult> ExecuteAsync(JobRun run)
    {
        var job = run.Job;
        run.Telemetry = JobsInstrumentation.StartProcess(QueueName, job, _runtime.TimeProvider, run.ClaimedTimestamp, _runtime.Driver.MetricTags,
            _runtime.Metrics);
        JobRunResult result = default;
        try
        {
            if (!_runtime.Registry.TryGet(job.Name, out var definition))
            {
                var error = new UnknownJobException(
                    $"No handler is registered for job '{job.Name}' in worker {WorkerId}. Register it with AddJob/Add{{Job}} or AddGeneratedJobs(), " +
                    "or run this job on a worker that handles it.");
                result = await UnrunnableAsync(run, error).ConfigureAwait(false);
            }
            else
            {
                result = await definition.RunAsync(this, run).ConfigureAwait(false);
            }

            return result;
        }
        finally
        {
            // An attempt that ends after its worker lost the lease (a handler that ignored its cancelled token returned) is
            // lease_lost and counts nothing: the rescue that requeued or failed the job counted it, and its outcome, still
            // reported, is taken only by a store that kept the lease. Counted by its outcome, one attempt counted twice.
            run.Telemetry?.Stop(run.Reason == CancelReason.LeaseLost ? null : result.Outcome);
        }
    }

    /// <summary>The typed half of <see cref="ExecuteAsync(JobRun)"/>, reached through <see cref="JobDefinition.RunAsync"/>.</summary>
    internal async Task<JobRunResult> ExecuteAsync<TJob>(JobDefinition<TJob> definition, JobRun run)
        where TJob : IJob<TJob>
    {
        var job = run.Job;
        TJob decoded;
        try
        {
            decoded = definition.Decode(job.Payload);
        }
        catch (JobDecodeException ex)
        {
            // The type is known, so its timeout bounds the pop observers as it does a decodable job's.
            return await UnrunnableAsync(run, ex, definition.Timeout).ConfigureAwait(false);
        }

        // The timeout is the attempt's, from its start: the pop observers run under it too. One that waits for ever (a call
        // without its own timeout) would otherwise hold the worker's slot for good, where the same wait in the handler
        // times out.
        if (definition.Timeout is { } timeout)
        {
            run.SetTimeout(timeout, _runtime.TimeProvider);
        }

        await Pipeline.OnPoppedAsync(new JobPopContext(job.Id, job.Name, QueueName, job.Attempt, decoded, null), run.Token).ConfigureAwait(false);
        if (run.Token.IsCancellationRequested)
        {
            // Timed out, cancelled, stopped or lost while the pop observers ran: the handler does not start on a cancelled
            // token, and the attempt ends as a handler stopped at its token would (a timeout is a failed attempt).
            return FailedAttempt(run, definition, decoded, new OperationCanceledException(run.Token));
        }

        try
        {
            return await RunHandlerAsync(definition, run, decoded).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Something around the handler failed (creating its scope or its log scope; a scope's failed dispose is
            // handled inside): the attempt's exception, as a wrapper's would be, so the attempt still gets an outcome.
            return FailedAttempt(run, definition, decoded, ex);
        }
    }

    private async Task<JobRunResult> RunHandlerAsync<TJob>(JobDefinition<TJob> definition, JobRun run, TJob decoded)
        where TJob : IJob<TJob>
    {
        var job = run.Job;
        var scope = _scopeFactory.CreateAsyncScope();
        // The app's scope is ended guarded (GuardedLogger): a provider that throws ending it must not fail an attempt that succeeded.
        var logScope = _logger.BeginScope(new JobLogScope(job.Id, job.Name));
        try
        {
            Exception? failure = null;
            try
            {
                var context = new JobContext(job.Id, job.Name, QueueName, job.Attempt, job.MaxAttempts, job.QueuedAt,
                    ParseTime(job.Headers, JobHeaders.ScheduledAt), ParseTime(job.Headers, JobHeaders.NextScheduledAt), WorkerId, _logger,
                    scope.ServiceProvider, job.Headers);
                var token = run.Token;
                var services = scope.ServiceProvider;
                if (Pipeline.IsEmpty)
                {
                    await definition.InvokeAsync(services, decoded, context, token).ConfigureAwait(false);
                }
                else
                {
                    await Pipeline.HandleAsync(new JobExecutionContext(decoded, context), () => definition.InvokeAsync(services, decoded, context, token), token)
                        .ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            // The job's scoped services are part of its attempt: one that throws on dispose (a unit of work flushing) fails an
            // attempt whose handler returned, as a handler exception would (retried by the job's rule). It never escapes: the
            // attempt's outcome is recorded either way, so the job neither waits for its lease to expire nor runs again
            // after completing.
            try
            {
                await scope.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (failure is null)
            {
                failure = ex;
            }
            catch (Exception ex)
            {
                Log.ScopeDisposeFailed(_logger, ex, job.Id, job.Name, job.Attempt);
            }

            if (failure is not null)
            {
                return FailedAttempt(run, definition, decoded, failure);
            }

            Log.JobCompleted(_logger, job.Id, job.Name);
            return Final(job, JobOutcomeKind.Completed, null, null);
        }
        finally
        {
            GuardedLogger.EndScope(logScope);
        }
    }

    private JobRunResult FailedAttempt<TJob>(JobRun run, JobDefinition<TJob> definition, TJob decoded, Exception ex)
        where TJob : IJob<TJob>
    {
        var job = run.Job;
        if (ex is OperationCanceledException)
        {
            switch (run.Reason)
            {
                case CancelReason.Shutdown:
                    return new JobOutcome(job.Id, JobOutcomeKind.Release, job.Attempt);
                case CancelReason.LeaseLost:
                    return default;
                case CancelReason.UserCancel:
                    Log.JobCancelled(_logger, job.Id, job.Name);
                    return Final(job, JobOutcomeKind.Cancelled, ex, "Cancelled while running.");
                case CancelReason.Timeout:
                    ex = new JobTimeoutException($"Job '{job.Name}' timed out after {definition.Timeout} on attempt {job.Attempt}.", ex);
                    break;
            }
        }

        if (ex is JobRescheduleException reschedule)
        {
            run.Telemetry?.SetError(ex);
            return Reschedule(job, reschedule);
        }

        if (run.Reason == CancelReason.Shutdown)
        {
            // Interrupted by the stop: also when the handler reported the cancellation in an exception of its own, the job
            // goes back to pending with its attempt not counted, as the stop promises.
            return new JobOutcome(job.Id, JobOutcomeKind.Release, job.Attempt);
        }

        if (ContainerDisposed())
        {
            // The host was disposed without being stopped: the container disposes the singletons created after the worker
            // (a client the first job resolved) before it gets to the worker, whose disposal then stops it. A handler
            // failing now likely failed on one of those (ObjectDisposedException, or an error of its own about it), or
            // could not get its scope: interrupted by the host going away, as a stop's interruption, not by its job.
            Log.JobFailedInDisposedContainer(_logger, Readable(ex), job.Id, job.Name, job.Attempt);
            return new JobOutcome(job.Id, JobOutcomeKind.Release, job.Attempt);
        }

        // The retry rule sees the handler's exception; its text is read from a stand-in when the exception cannot render it.
        var thrown = ex;
        ex = Readable(ex);
        run.Telemetry?.SetError(ex);
        var error = _runtime.FormatError(ex);
        var decision = _runtime.RetryPolicy.Decide(definition, job, thrown, out var strategyError);
        if (strategyError is not null)
        {
            Log.RetryStrategyFailed(_logger, strategyError, job.Id, job.Name, job.Attempt);
        }

        if (decision.Retry)
        {
            Log.JobRetrying(_logger, ex, job.Id, job.Name, job.Attempt, decision.Delay);
            var delay = Bounded(decision.Delay);
            var outcome = new JobOutcome(job.Id, JobOutcomeKind.Retry, job.Attempt, delay, job.Attempt + 1, error)
            {
                StackTrace = _runtime.FormatStackTrace(ex),
            };
            if (Pipeline.IsEmpty)
            {
                return outcome;
            }

            var options = new JobOptions { Priority = job.Priority, DelayUntil = _runtime.TimeProvider.GetUtcNow() + delay };
            var pushed = new JobPushContext(job.Id, job.Name, QueueName, job.Attempt + 1, decoded, options);
            return new JobRunResult(outcome, ct => Pipeline.OnPushedAsync(pushed, ct));
        }

        Log.JobFailed(_logger, ex, job.Id, job.Name, job.Attempt);
        return Final(job, JobOutcomeKind.Failed, ex, error, _runtime.FormatStackTrace(ex));
    }

    /// <summary>
    /// Whether the container the handlers' scopes come from is disposed (or being disposed: it is marked disposed before it
    /// disposes its services). Asked only for a failed attempt; an empty scope resolves nothing.
    /// </summary>
    private bool ContainerDisposed()
    {
        try
        {
            _scopeFactory.CreateScope().Dispose();
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    /// <summary>
    /// <paramref name="error"/>, or a stand-in naming its type when its <see cref="Exception.ToString"/> (its message,
    /// stack trace or inner exceptions) throws: the attempt's error text, log entry and observers need that text, and an
    /// exception escaping here would leave the attempt without an outcome.
    /// </summary>
    private static Exception Readable(Exception error)
    {
        try
        {
            if (NestingDepth(error) > MaxNesting)
            {
                // Exception.ToString() renders inner exceptions recursively: a chain this deep would overflow the stack
                // and take the whole process down (and every worker that picked the job up next).
                return new InvalidOperationException(
                    $"The handler threw {Describe(error)}, with more than {MaxNesting} nested inner exceptions (too deep to render; innermost not shown).");
            }

            var text = error.ToString();
            _ = error.Message; // the stored error reads it, and a type may override ToString() without it
            if (text is not null)
            {
                return error;
            }

            return new InvalidOperationException($"The handler threw {error.GetType().FullName}, whose ToString() returned null.");
        }
        catch (Exception unreadable)
        {
            return new InvalidOperationException(
                $"The handler threw {error.GetType().FullName}, whose text could not be read ({unreadable.GetType().FullName} from its Message or ToString()).");
        }
    }

    /// <summary>The deepest inner-exception nesting rendered; deeper chains are replaced by a stand-in.</summary>
    private const int MaxNesting = 256;

    /// <summary>
    /// How deeply <paramref name="error"/>'s inner exceptions nest (through <see cref="Exception.InnerException"/> and
    /// <see cref="AggregateException.InnerExceptions"/>), walked without recursion and stopping past <see cref="MaxNesting"/>.
    /// </summary>
    private static int NestingDepth(Exception error)
    {
        var deepest = 0;
        var visited = 0;
        var pending = new Stack<(Exception Error, int Depth)>();
        pending.Push((error, 0));
        while (pending.TryPop(out var next) && visited++ < 10_000)
        {
            deepest = Math.Max(deepest, next.Depth);
            if (deepest > MaxNesting)
            {
                break;
            }

            if (next.Error is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push((inner, next.Depth + 1));
                }
            }
            else if (next.Error.InnerException is { } inner)
            {
                pending.Push((inner, next.Depth + 1));
            }
        }

        return deepest;
    }

    /// <summary>"Type: message" of <paramref name="error"/>, or its type alone when its message cannot be read.</summary>
    internal static string Describe(Exception error)
    {
        try
        {
            return $"{error.GetType().FullName}: {error.Message}";
        }
        catch (Exception)
        {
            return $"{error.GetType().FullName} (its Message could not be read)";
        }
    }

    private JobOutcome Reschedule(ClaimedJob job, JobRescheduleException reschedule)
    {
        var delay = reschedule.Until is { } until ? until - _runtime.TimeProvider.GetUtcNow() : reschedule.Delay ?? TimeSpan.Zero;
        var nextAttempt = reschedule.Attempts switch
        {
            RescheduleAttempts.Reset => 1,
            RescheduleAttempts.Increment => job.Attempt + 1,
            _ => job.Attempt,
        };
        // A time is kept as a time: the store compares it with its own clock, whatever this machine's clock says.
        var latest = DateTimeOffset.MaxValue.AddDays(-1);
        return new JobOutcome(job.Id, JobOutcomeKind.Reschedule, job.Attempt, Bounded(delay), nextAttempt)
        {
            RunAt = reschedule.Until is { } at ? (at > latest ? latest : at) : null,
        };
    }

    /// <summary>
    /// <paramref name="delay"/> from now, at least zero and at most a day short of <see cref="DateTimeOffset.MaxValue"/>: a later
    /// run time would be stored (PostgreSQL goes to year 294276) but could not be read back into a <see cref="DateTimeOffset"/>,
    /// nor computed by the in-memory driver.
    /// </summary>
    private TimeSpan Bounded(TimeSpan delay)
    {
        var max = DateTimeOffset.MaxValue.AddDays(-1) - _runtime.TimeProvider.GetUtcNow();
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > max ? max : delay;
    }

    /// <summary>
    /// A job whose name has no handler here or whose payload does not decode: it fails for good, without running. Its pop
    /// observers run on the attempt's token, as a runnable job's do: one that waits for ever is interrupted by a stop, a
    /// cancel or a lost lease instead of holding the worker's slot for good, and the attempt then ends as any attempt
    /// interrupted that way does. <paramref name="timeout"/> is the job type's, when the type is known (its payload does
    /// not decode): it bounds the observers as it bounds a decodable job's, and the job then fails with
    /// <paramref name="error"/> as it would have anyway (no retry can decode it). A name without a handler has no timeout to
    /// apply (a timeout is the type's; there is no worker-wide one), as a decodable job without a timeout has none.
    /// </summary>
    private async Task<JobRunResult> UnrunnableAsync(JobRun run, Exception error, TimeSpan? timeout = null)
    {
        var job = run.Job;
        run.Telemetry?.SetDiscarded(error);
        Log.JobUnrunnable(_logger, job.Id, job.Name, error.Message);
        if (timeout is { } t)
        {
            run.SetTimeout(t, _runtime.TimeProvider);
        }

        await Pipeline.OnPoppedAsync(new JobPopContext(job.Id, job.Name, QueueName, job.Attempt, null, error), run.Token).ConfigureAwait(false);
        if (run.Token.IsCancellationRequested)
        {
            switch (run.Reason)
            {
                case CancelReason.Shutdown:
                    // The stop gives the job back uncounted, as for a runnable job: a worker of a version that handles it may take it.
                    return new JobOutcome(job.Id, JobOutcomeKind.Release, job.Attempt);
                case CancelReason.LeaseLost:
                    return default; // the job is no longer this worker's to record
                case CancelReason.UserCancel:
                    Log.JobCancelled(_logger, job.Id, job.Name);
                    return Final(job, JobOutcomeKind.Cancelled, new OperationCanceledException(run.Token), "Cancelled while running.");
            }
        }

        return Final(job, JobOutcomeKind.Failed, error, _runtime.FormatError(error), _runtime.FormatStackTrace(error));
    }

    /// <summary>A final outcome (completed, failed, cancelled) and its completion observers, run once it is recorded.</summary>
    private JobRunResult Final(ClaimedJob job, JobOutcomeKind kind, Exception? error, string? storedError, string? stackTrace = null)
    {
        var outcome = new JobOutcome(job.Id, kind, job.Attempt, Error: storedError) { StackTrace = stackTrace };
        if (Pipeline.IsEmpty)
        {
            return outcome;
        }

        var completed = new JobCompletedContext(job.Id, job.Name, QueueName, job.Attempt, kind, error);
        return new JobRunResult(outcome, ct => Pipeline.OnCompletedAsync(completed, ct));
    }

    private static DateTimeOffset? ParseTime(IReadOnlyDictionary<string, string>? headers, string key)
        => headers is not null && headers.TryGetValue(key, out var text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value)
            ? value
            : null;
}
