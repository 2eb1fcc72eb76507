using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>Log messages of the runtime's metrics (event ids 1300-1319).</summary>
internal static partial class InstrumentationLog
{
    /// <summary>
    /// The first failed read of the counts of <paramref name="queueCount"/> queues (<paramref name="queues"/>, from
    /// <see cref="QueueNames"/>): one per store that reads every queue's counts at once (<see cref="StoreStateCountRead"/>),
    /// else one per queue.
    /// </summary>
    [LoggerMessage(EventId = 1300, Level = LogLevel.Warning, Message = "Reading the job counts of {QueueCount} queue(s) ({Queues}) for the jobs.state.count gauge failed; the gauge reports their last counts for {MaxAge} after they were read, then none until a read succeeds (not logged again until then). Check that the job store is reachable and answers (the exception says why)")]
    public static partial void StateCountFailed(ILogger logger, Exception exception, int queueCount, string queues, TimeSpan maxAge);

    /// <summary>The first read that succeeds after <see cref="StateCountFailed"/> (<paramref name="failures"/> failed reads).</summary>
    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Reading the job counts of {QueueCount} queue(s) ({Queues}) for the jobs.state.count gauge succeeded again after {Failures} failed read(s); the gauge reports them")]
    public static partial void StateCountRecovered(ILogger logger, int queueCount, string queues, int failures);

    /// <summary>
    /// The queues of a gauge message: the first <paramref name="shown"/> of <paramref name="names"/> quoted, then how many
    /// more (a store of 1,000 queues names three, not 1,000).
    /// </summary>
    internal static string QueueNames(IReadOnlyCollection<string> names, int shown = 3)
    {
        var quoted = string.Join(", ", names.Take(shown).Select(n => $"'{n}'"));
        return names.Count > shown ? $"{quoted} and {names.Count - shown} more" : quoted;
    }
}
