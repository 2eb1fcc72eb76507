using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>Log messages of <see cref="JobScheduler"/> (event ids 1200–1299).</summary>
internal static partial class SchedulerLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Job scheduler started on queue '{QueueName}' with {Count} entries")]
    public static partial void Started(ILogger logger, string queueName, int count);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Job scheduler stopped on queue '{QueueName}'")]
    public static partial void Stopped(ILogger logger, string queueName);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Error, Message = "Job scheduler could not start on queue '{QueueName}': the queue is not ready")]
    public static partial void NotReady(ILogger logger, Exception exception, string queueName);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Debug, Message = "Schedule entry '{EntryKey}' pushed job {JobId} for {FireTime:O}")]
    public static partial void Pushed(ILogger logger, string entryKey, JobId jobId, DateTimeOffset fireTime);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Debug, Message = "Schedule entry '{EntryKey}' fire {FireTime:O} was already pushed by another scheduler")]
    public static partial void AlreadyPushed(ILogger logger, string entryKey, DateTimeOffset fireTime);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Warning, Message = "Schedule store failed for entry '{EntryKey}'; retrying in {Delay}")]
    public static partial void StoreFailed(ILogger logger, Exception exception, string entryKey, TimeSpan delay);

    [LoggerMessage(EventId = 1206, Level = LogLevel.Information, Message = "Schedule entry '{EntryKey}' missed {Missed} fire times while no scheduler ran; pushing only the latest, {FireTime:O} (accuracy Latest)")]
    public static partial void CatchUpLatest(ILogger logger, string entryKey, int missed, DateTimeOffset fireTime);

    [LoggerMessage(EventId = 1207, Level = LogLevel.Warning, Message = "Schedule entry '{EntryKey}' has no further fire times; it stops")]
    public static partial void Exhausted(ILogger logger, string entryKey);

    [LoggerMessage(EventId = 1209, Level = LogLevel.Error, Message = "Schedule entry '{EntryKey}' stopped after an unexpected error; restart the scheduler to resume it")]
    public static partial void EntryFailed(ILogger logger, Exception exception, string entryKey);

    [LoggerMessage(EventId = 1208, Level = LogLevel.Warning, Message = "Middleware {Middleware} threw in OnPush for scheduled job {JobId}")]
    public static partial void MiddlewareFailed(ILogger logger, Exception exception, string middleware, JobId jobId);
}
