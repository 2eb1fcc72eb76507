using System.Globalization;

namespace Jobs.Sdk;

/// <summary>
/// The one schedule entry an operator's action names (a key, and the queue when given), found among the listed entries, or
/// the error that says why none is: the key names entries of several queues and no queue was named, no entry has it, or (a
/// trigger) the entry is paused or no running scheduler publishes it any more.
/// </summary>
internal static class ScheduleEntryLookup
{
    /// <summary>How many entries an error lists (the lists name the rest).</summary>
    private const int Listed = 10;

    /// <summary>The entry of <paramref name="entryKey"/> in <paramref name="queue"/> (any queue when null) that <paramref name="action"/> acts on.</summary>
    /// <exception cref="ArgumentException">No queue was named and the key names entries of several queues.</exception>
    /// <exception cref="ScheduleEntryNotFoundException">No entry has the key (in that queue).</exception>
    public static ScheduleInfo Find(IReadOnlyList<ScheduleInfo> entries, string? queue, string entryKey, string action)
    {
        var ofKey = entries.Where(e => string.Equals(e.EntryKey, entryKey, StringComparison.Ordinal)).ToArray();
        var named = queue is null ? ofKey : ofKey.Where(e => string.Equals(e.QueueName, queue, StringComparison.Ordinal)).ToArray();
        if (named.Length == 1)
        {
            return named[0];
        }

        if (named.Length > 1)
        {
            throw new ArgumentException(
                $"Schedule entry key '{entryKey}' is published in {named.Length} queues ({Queues(named)}), one entry each (one per application or " +
                $"scheduled queue): nothing was {Done(action)}. Name the queue of the entry to {action} (the queue argument of JobAdmin's " +
                "schedule actions; --queue in the jobs CLI).", nameof(queue));
        }

        var message = ofKey.Length > 0
            ? $"Queue '{queue}' has no schedule entry '{entryKey}': nothing was {Done(action)}. The key is published in queue{(ofKey.Length == 1 ? "" : "s")} " +
              $"{Queues(ofKey)}: name {(ofKey.Length == 1 ? "it" : "one of them")}."
            : $"No schedule entry '{entryKey}' is stored{(queue is null ? "" : $" in queue '{queue}'")}: nothing was {Done(action)}. {OfJob(entries, entryKey)}" +
              $"{Known(entries, queue)} (An entry appears once a process running its schedule started; one no scheduler publishes any more " +
              "is deleted 7 days after it was last published, unless paused.)";
        throw new ScheduleEntryNotFoundException(message, entryKey, queue);
    }

    /// <summary>Why <paramref name="entry"/> is not triggered (paused, or no running scheduler publishes it), or nothing when it may be.</summary>
    public static void CheckTriggerable(IReadOnlyList<ScheduleInfo> entries, ScheduleInfo entry)
    {
        if (entry.IsPaused)
        {
            throw new ScheduleEntryPausedException(
                $"Schedule entry '{entry.EntryKey}' of queue '{entry.QueueName}' is paused: nothing was triggered (a pause stops the entry's " +
                "triggers as it stops its fires, so that a job an operator stopped is not run by a click). Resume it first " +
                "(JobAdmin.ResumeScheduleAsync, `jobs schedules resume`, or Resume on the dashboard's schedules page): its fires come on " +
                "schedule again; then trigger it.", entry.EntryKey, entry.QueueName);
        }

        if (entry.IsStale)
        {
            throw new ScheduleEntryNotFoundException(
                $"Schedule entry '{entry.EntryKey}' of queue '{entry.QueueName}' was not triggered: no running scheduler publishes it any more " +
                $"({(entry.LastSeenAt is { } seen ? "last published " + seen.ToString("u", CultureInfo.InvariantCulture) + ": " : "")}a deploy removed it, an edited schedule gave " +
                "it a new key, or every process that runs it is down), so its job may be no application's any more. Start a process whose " +
                $"schedule has the entry to trigger it. {Known(entries, null)}", entry.EntryKey, entry.QueueName);
        }
    }

    private static string Done(string action) => action switch
    {
        "trigger" => "triggered",
        "pause" => "paused",
        _ => "resumed",
    };

    private static string Queues(IEnumerable<ScheduleInfo> entries)
        => string.Join(", ", entries.Select(e => $"'{e.QueueName}'").Order(StringComparer.Ordinal));

    /// <summary>An operator often types the job's name where the key is "{job name}@{schedule}": the keys of that job's entries.</summary>
    private static string OfJob(IReadOnlyList<ScheduleInfo> entries, string entryKey)
    {
        var ofJob = entries.Where(e => string.Equals(e.JobName, entryKey, StringComparison.Ordinal)).ToArray();
        return ofJob.Length == 0 ? "" : $"'{entryKey}' is the job of {(ofJob.Length == 1 ? "entry" : "entries")} {Named(ofJob)}: give the entry key. ";
    }

    /// <summary>The entries published now (those of <paramref name="queue"/> when one was named and has some).</summary>
    private static string Known(IReadOnlyList<ScheduleInfo> entries, string? queue)
    {
        var live = entries.Where(e => !e.IsStale).ToArray();
        var inQueue = queue is null ? [] : live.Where(e => string.Equals(e.QueueName, queue, StringComparison.Ordinal)).ToArray();
        return live.Length == 0 ? "No running scheduler publishes any entry now."
            : inQueue.Length > 0 ? $"Entries published in queue '{queue}': {Named(inQueue)}."
            : $"Entries published: {Named(live)}.";
    }

    private static string Named(IReadOnlyList<ScheduleInfo> entries)
    {
        var names = string.Join(", ", entries.Take(Listed).Select(e => $"'{e.EntryKey}' (queue '{e.QueueName}')"));
        return entries.Count > Listed ? $"{names} and {entries.Count - Listed} more (see the schedules list)" : names;
    }
}
