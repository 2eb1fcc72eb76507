namespace Jobs.Sdk.Cli;

/// <summary>
/// The schedule entry a command names (its key, and its queue with <c>--queue</c>), found among the published entries, or the
/// error that says what to type: a key is published once per queue that schedules it (two applications of one schema, or
/// the scheduled cleanups of two queues, have the same default key), and a command acts on one entry only.
/// </summary>
internal static class ScheduleEntryArgument
{
    /// <summary>The one entry <c>jobs {command}</c> names.</summary>
    /// <exception cref="CliException">
    /// The key alone names entries of several queues (<see cref="ExitCodes.Usage"/>: nothing ran; the error gives a command
    /// per queue), or no entry has the key in the queue named, or in any (<see cref="ExitCodes.Failed"/>).
    /// </exception>
    public static async Task<ScheduleInfo> FindAsync(CliContext ctx, string command, string entry, string? queue)
    {
        var schedules = await ctx.Admin.GetSchedulesAsync(ctx.Cancellation).ConfigureAwait(false);
        var ofKey = schedules.Where(s => s.EntryKey == entry).ToArray();
        var named = queue is null ? ofKey : ofKey.Where(s => s.QueueName == queue).ToArray();
        if (named.Length == 1)
        {
            return named[0];
        }

        var done = command switch
        {
            "trigger" => "triggered",
            "schedules pause" => "paused",
            _ => "resumed",
        };
        if (named.Length > 1)
        {
            throw new CliException($"schedule entry key '{entry}' is published in {named.Length} queues ({Queues(named)}), one entry each: nothing was {done}. " +
                $"Name the entry's queue with --queue: {Commands(command, named)}.");
        }

        if (ofKey.Length > 0)
        {
            throw new CliException($"queue '{queue}' has no schedule entry '{entry}': nothing was {done}. The key is published in queue{(ofKey.Length == 1 ? "" : "s")} " +
                $"{Queues(ofKey)}: {Commands(command, ofKey)}.") { ExitCode = ExitCodes.Failed };
        }

        // An operator often types the job's name (nightly-digest) where the key is "{job name}@{schedule}": the tool does not
        // guess (another entry's key may be that word), but names the keys of that job's entries as the command to type.
        var error = $"no schedule entry '{entry}' was published{(queue is null ? "" : $" in queue '{queue}'")} (see `jobs schedules`; entries appear once a " +
            "process running the schedule started).";
        var ofJob = schedules.Where(s => s.JobName == entry && (queue is null || s.QueueName == queue)).ToArray();
        throw new CliException(ofJob.Length == 0
            ? error
            : error + $" '{entry}' is the job of {(ofJob.Length == 1 ? "entry" : "entries")} (give the key, quoted): {Commands(command, ofJob)}")
        {
            ExitCode = ExitCodes.Failed,
        };
    }

    /// <summary>The command that acts on <paramref name="entry"/>, its queue named (options after the key, as the README writes them).</summary>
    public static string Command(string command, ScheduleInfo entry) => $"jobs {command} \"{entry.EntryKey}\" --queue {Quoted(entry.QueueName)}";

    private static string Commands(string command, IEnumerable<ScheduleInfo> entries)
        => string.Join("; ", entries.OrderBy(e => e.QueueName, StringComparer.Ordinal).Select(e => Command(command, e)));

    private static string Queues(IEnumerable<ScheduleInfo> entries)
        => string.Join(", ", entries.Select(e => $"'{e.QueueName}'").Order(StringComparer.Ordinal));

    /// <summary>A queue name as a shell word: quoted when it holds anything but letters, digits and <c>._:/-</c>.</summary>
    private static string Quoted(string queue)
        => queue.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '/' or '-') ? queue : $"\"{queue}\"";
}
