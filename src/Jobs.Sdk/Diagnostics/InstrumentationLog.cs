using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>Log messages of the runtime's metrics (event ids 1300-1319).</summary>
internal static partial class InstrumentationLog
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Warning, Message = "Reading the job counts of queue '{QueueName}' for the jobs.state.count gauge failed; the gauge reports the last counts for {MaxAge} after they were read, then none until a read succeeds (not logged again until then)")]
    public static partial void StateCountFailed(ILogger logger, Exception exception, string queueName, TimeSpan maxAge);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Reading the job counts of queue '{QueueName}' for the jobs.state.count gauge succeeded again after {Failures} failed read(s); the gauge reports them")]
    public static partial void StateCountRecovered(ILogger logger, string queueName, int failures);
}
