using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>All log messages of the core runtime (source-generated, allocation-free when disabled).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Job worker {WorkerId} started on queue '{QueueName}' with concurrency {Concurrency}")]
    public static partial void WorkerStarted(ILogger logger, string workerId, string queueName, int concurrency);

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

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Rescuing expired job leases failed")]
    public static partial void RescueFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Rescued {Count} jobs whose worker stopped renewing its lease")]
    public static partial void Rescued(ILogger logger, int count);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Lost the lease of job {JobId}; its handler is being cancelled")]
    public static partial void LeaseLost(ILogger logger, JobId jobId);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Shutdown timeout: {Count} running jobs are cancelled and returned to the queue")]
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

    [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, Message = "Middleware {Middleware} threw in {Hook}")]
    public static partial void MiddlewareFailed(ILogger logger, Exception exception, string middleware, string hook);
}
