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
    /// Refreshes of <paramref name="queueCount"/> queues (<paramref name="queues"/>) of a store that reads every queue's counts
    /// at once (<see cref="StoreStateCountRead"/>) ran out of time (<paramref name="timeout"/>, their wait for their turn
    /// included) while the store answered: a slow read that then succeeded, or a long wait for their turn. Once per store
    /// until every one of them refreshed again (<see cref="StateCountCurrent"/>); not while its read fails (1300 says why).
    /// </summary>
    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Refreshing the job counts of {QueueCount} queue(s) ({Queues}) of {Store} for the jobs.state.count gauge ran out of time ({Timeout}, the wait for their turn included) though the count read did not fail: it was slow (it waited for a lock, or the server was busy) or they waited too long for their turn behind other queues' refreshes; the gauge reports their last counts for {MaxAge} after they were read, then none until a refresh succeeds (not logged again until then). Check what makes the count statement on job_state_counts slow (pg_stat_activity shows it waiting, pg_locks for what: a long transaction, a LOCK TABLE, a migration, server load) and whether the process gauges more queues and stores than one connection refreshes in time")]
    public static partial void StateCountStale(ILogger logger, int queueCount, string queues, string store, TimeSpan timeout, TimeSpan maxAge);

    /// <summary>Every queue of a <see cref="StateCountStale"/> warning (and those stale since) refreshed its counts again.</summary>
    [LoggerMessage(EventId = 1303, Level = LogLevel.Information, Message = "Refreshing the job counts of {QueueCount} queue(s) ({Queues}) of {Store} for the jobs.state.count gauge succeeded again after running out of time; the gauge reports them")]
    public static partial void StateCountCurrent(ILogger logger, int queueCount, string queues, string store);

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
