namespace Jobs.Sdk.Cli;

/// <summary>
/// A queue name that no job and no live worker has is most likely a typo (<c>--queue emial</c>): the queue meant is left
/// as it was while the command says "0 job(s)". Warns on stderr, naming the queues that do have jobs or workers; not an
/// error (pausing ahead of a queue's first job is fine, and a filter may match nothing).
/// </summary>
internal static class UnknownQueue
{
    /// <summary>Warns when <paramref name="name"/> is not in use; <paramref name="consequence"/> says what the command did with it.</summary>
    public static async Task WarnAsync(CliContext ctx, string name, string consequence)
    {
        var queues = await ctx.Admin.GetQueuesAsync(ctx.Cancellation).ConfigureAwait(false);
        static bool Used(QueueInfo q) => q.WorkerCount > 0 || Enum.GetValues<JobState>().Any(s => q.Counts[s] > 0);
        if (queues.Any(q => q.Name == name && Used(q)))
        {
            return;
        }

        var known = queues.Where(Used).Select(q => q.Name).ToArray();
        await Console.Error.WriteLineAsync($"warning: no job and no live worker has queue '{name}' (a typo?); {consequence} " +
            (known.Length == 0 ? "No queue has jobs or workers yet." : "Queues in use: " + string.Join(", ", known) + ".")).ConfigureAwait(false);
    }
}
