using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// All log messages of Jobs.Sdk (source-generated, allocation-free when disabled): the worker 1000-1099, job runs 1100-1199,
/// the scheduler 1200-1299.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Job worker {WorkerId} started on queue '{QueueName}' with concurrency {Concurrency}")]
    public static partial void WorkerStarted(ILogger logger, string workerId, string queueName, int concurrency);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Information, Message = "Queue '{QueueName}' was paused: released {Count} claimed jobs that had not started")]
    public static partial void QueuePausedReleased(ILogger logger, string queueName, int count);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Debug, Message = "Could not read whether queue '{QueueName}' is paused; the next check retries")]
    public static partial void QueuePauseCheckFailed(ILogger logger, Exception exception, string queueName);

    [LoggerMessage(EventId = 1022, Level = LogLevel.Warning, Message = "A QueuePaused handler of queue '{QueueName}' threw when the queue was paused; the other handlers (the worker's among them) still ran. Handlers of QueuePaused must not throw: catch inside the handler")]
    public static partial void QueuePausedHandlerFailed(ILogger logger, Exception exception, string queueName);

    [LoggerMessage(EventId = 1023, Level = LogLevel.Warning, Message = "A RunningJobCancelled handler threw for job {JobId}; the cancel was recorded and the other handlers (the worker's among them) still ran. Handlers of RunningJobCancelled must not throw: catch inside the handler")]
    public static partial void RunningJobCancelledHandlerFailed(ILogger logger, Exception exception, JobId jobId);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Job worker {WorkerId} stopped")]
    public static partial void WorkerStopped(ILogger logger, string workerId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Job worker {WorkerId} could not start: the queue is not ready")]
    public static partial void WorkerNotReady(ILogger logger, Exception exception, string workerId);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Claiming jobs failed; retrying in {Delay}")]
    public static partial void ClaimFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Recording {Count} job outcomes failed; retrying in {Delay}")]
    public static partial void CompleteFailed(ILogger logger, Exception exception, int count, TimeSpan delay);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Renewing job leases failed")]
    public static partial void RenewFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "Job worker {WorkerId}: the thread pool stalled (handlers blocking their threads?); raised its minimum worker threads by {Count} until the worker stops, so lease renewals keep running")]
    public static partial void ThreadsReserved(ILogger logger, string workerId, int count);

    [LoggerMessage(EventId = 1090, Level = LogLevel.Warning, Message = "{Count} job(s) named '{JobName}' in queue '{QueueName}' have waited {Age} past their due time and this worker has no handler for that name. Deploy a worker that registers it (or cancel the jobs); workers claim only the names they register.")]
    public static partial void UnhandledJobsWaiting(ILogger logger, long count, string jobName, string queueName, TimeSpan age);

    [LoggerMessage(EventId = 1091, Level = LogLevel.Debug, Message = "Checking for jobs no worker handles failed")]
    public static partial void UnhandledJobCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Rescuing expired job leases failed")]
    public static partial void RescueFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Rescued {Count} jobs whose worker stopped renewing its lease")]
    public static partial void Rescued(ILogger logger, int count);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Lost the lease of job {JobId}; its handler is being cancelled")]
    public static partial void LeaseLost(ILogger logger, JobId jobId);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "The lease of job {JobId} ended before its handler could start (the claim's reply came late, or its renewals failed); it is not started here")]
    public static partial void LeaseEndedBeforeStart(ILogger logger, JobId jobId);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Warning, Message = "Giving back {Count} job(s) whose claim returned after the worker stopped failed; they are requeued when their lease expires")]
    public static partial void LateClaimNotGivenBack(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Error, Message = "The store rejected the outcome {Kind} of job {JobId} alone; it is recorded with a replacement error")]
    public static partial void OutcomeRejected(ILogger logger, JobId jobId, JobOutcomeKind kind);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Error, Message = "A callback registered on the cancellation token of {Owner} threw when it was cancelled; the cancellation went ahead. Callbacks passed to CancellationToken.Register must not throw: catch inside the callback")]
    public static partial void CancellationCallbackFailed(ILogger logger, Exception exception, string owner);

    [LoggerMessage(EventId = 1015, Level = LogLevel.Warning, Message = "Job worker {WorkerId} stopped while completion observers (IJobMiddleware.OnCompletedAsync, or OnPushAsync for a retry) still ran past its shutdown timeout and their cancelled token; the outcomes are recorded, the stop does not wait for them")]
    public static partial void ObserversLeftRunning(ILogger logger, string workerId);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Shutdown timeout: {Count} running jobs are cancelled; those that stop are returned to the queue, a handler that ignores its token keeps its lease until it returns")]
    public static partial void ShutdownTimedOut(ILogger logger, int count);

    [LoggerMessage(EventId = 1100, Level = LogLevel.Error, Message = "Job {JobId} ('{JobName}') cannot run and is failed: {Reason}")]
    public static partial void JobUnrunnable(ILogger logger, JobId jobId, string jobName, string reason);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Job {JobId} ('{JobName}') attempt {Attempt} failed; retrying in {Delay}")]
    public static partial void JobRetrying(ILogger logger, Exception exception, JobId jobId, string jobName, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "Job {JobId} ('{JobName}') failed on attempt {Attempt}")]
    public static partial void JobFailed(ILogger logger, Exception exception, JobId jobId, string jobName, int attempt);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Job {JobId} ('{JobName}') was cancelled while running")]
    public static partial void JobCancelled(ILogger logger, JobId jobId, string jobName);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Debug, Message = "Job {JobId} ('{JobName}') completed")]
    public static partial void JobCompleted(ILogger logger, JobId jobId, string jobName);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Error, Message = "The retry strategy of job {JobId} ('{JobName}') threw deciding about failed attempt {Attempt}; the queue's default strategy decided instead")]
    public static partial void RetryStrategyFailed(ILogger logger, Exception exception, JobId jobId, string jobName, int attempt);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Warning, Message = "Disposing the scoped services of job {JobId} ('{JobName}') threw after attempt {Attempt} had already failed; the handler's error is the one recorded")]
    public static partial void ScopeDisposeFailed(ILogger logger, Exception exception, JobId jobId, string jobName, int attempt);

    [LoggerMessage(EventId = 1108, Level = LogLevel.Warning, Message = "Job {JobId} ('{JobName}') failed on attempt {Attempt} while its host's services were being disposed before the worker was stopped (the singletons it used may have been disposed under it); it goes back to the queue with this attempt not counted. Stop the host (StopAsync, or run it with Run/RunAsync) before disposing it, so that its workers drain first")]
    public static partial void JobFailedInDisposedContainer(ILogger logger, Exception exception, JobId jobId, string jobName, int attempt);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, Message = "Middleware {Middleware} threw in {Hook}")]
    public static partial void MiddlewareFailed(ILogger logger, Exception exception, string middleware, string hook);

    // Scheduler (1200-1299)

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Job scheduler started on queue '{QueueName}' with {Count} entries")]
    public static partial void SchedulerStarted(ILogger logger, string queueName, int count);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Job scheduler stopped on queue '{QueueName}'")]
    public static partial void SchedulerStopped(ILogger logger, string queueName);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Error, Message = "Job scheduler could not start on queue '{QueueName}': the queue is not ready")]
    public static partial void SchedulerNotReady(ILogger logger, Exception exception, string queueName);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Debug, Message = "Schedule entry '{EntryKey}' pushed job {JobId} for {FireTime:O}")]
    public static partial void ScheduledPushed(ILogger logger, string entryKey, JobId jobId, DateTimeOffset fireTime);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Debug, Message = "Schedule entry '{EntryKey}' fire {FireTime:O} was already pushed by another scheduler")]
    public static partial void ScheduledAlreadyPushed(ILogger logger, string entryKey, DateTimeOffset fireTime);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Warning, Message = "Schedule store failed for entry '{EntryKey}'; retrying in {Delay}")]
    public static partial void ScheduleStoreFailed(ILogger logger, Exception exception, string entryKey, TimeSpan delay);

    [LoggerMessage(EventId = 1206, Level = LogLevel.Information, Message = "Schedule entry '{EntryKey}' missed {Missed} fire times while no scheduler ran or the schedule store was out of reach; pushing only the latest, {FireTime:O} (accuracy Latest)")]
    public static partial void ScheduleCatchUpLatest(ILogger logger, string entryKey, int missed, DateTimeOffset fireTime);

    [LoggerMessage(EventId = 1207, Level = LogLevel.Warning, Message = "Schedule entry '{EntryKey}' has no further fire times; it stops")]
    public static partial void ScheduleExhausted(ILogger logger, string entryKey);

    [LoggerMessage(EventId = 1210, Level = LogLevel.Information, Message = "Schedule entry '{EntryKey}' fire {FireTime:O} pushed no job: job {HolderId} holds its unique key (waiting, running, or finished within UniqueFor); the fire is recorded and not pushed later")]
    public static partial void ScheduledKeyHeld(ILogger logger, string entryKey, DateTimeOffset fireTime, string holderId);

    [LoggerMessage(EventId = 1211, Level = LogLevel.Debug, Message = "Schedule entry '{EntryKey}' is paused: fire {FireTime:O} recorded without a job")]
    public static partial void ScheduledPaused(ILogger logger, string entryKey, DateTimeOffset fireTime);

    [LoggerMessage(EventId = 1212, Level = LogLevel.Warning, Message = "The clock of this host is {Skew} {Direction} the clock of the store of queue '{QueueName}': this scheduler pushes each fire when its own clock reaches it and the fire falls due by the store's, so it pushes every fire {Skew} {Effect}. Synchronise the host's clock (NTP)")]
    public static partial void SchedulerClockSkew(ILogger logger, TimeSpan skew, string direction, string queueName, string effect);

    [LoggerMessage(EventId = 1209, Level = LogLevel.Error, Message = "Schedule entry '{EntryKey}' stopped after an unexpected error; restart the scheduler to resume it")]
    public static partial void ScheduleEntryFailed(ILogger logger, Exception exception, string entryKey);
}
