using ConsoleAppFramework;

namespace Jobs.Sdk.Cli;

/// <summary>queue pause, queue resume.</summary>
internal sealed class QueueCommands
{
    /// <summary>Stop claims of a queue on every worker (running jobs finish; pushes are still accepted).</summary>
    /// <param name="name">The queue.</param>
    /// <param name="reason">Why (shown by status and kept in the audit log).</param>
    /// <param name="actor">Who acts (audit log).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("pause")]
    public Task<int> Pause([Argument] string name, string? reason = null, string? actor = null, string? connection = null, string schema = "jobs", bool json = false)
        => CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            var changed = await ctx.Admin.PauseQueueAsync(name, reason, CliContext.Audit(actor, reason), ctx.Cancellation).ConfigureAwait(false);
            Report(ctx, "pause", name, changed, changed ? $"queue '{name}' paused." : $"queue '{name}' was already paused (reason updated).");
            await WarnIfUnknownAsync(ctx, name).ConfigureAwait(false);
            return CliContext.ExitOk;
        });

    /// <summary>Let workers claim a paused queue's jobs again.</summary>
    /// <param name="name">The queue.</param>
    /// <param name="actor">Who acts (audit log).</param>
    /// <param name="reason">Why (audit log).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("resume")]
    public Task<int> Resume([Argument] string name, string? actor = null, string? reason = null, string? connection = null, string schema = "jobs", bool json = false)
        => CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            var changed = await ctx.Admin.ResumeQueueAsync(name, CliContext.Audit(actor, reason), ctx.Cancellation).ConfigureAwait(false);
            Report(ctx, "resume", name, changed, changed ? $"queue '{name}' resumed." : $"queue '{name}' was not paused.");
            return CliContext.ExitOk;
        });

    /// <summary>
    /// A queue that no job and no live worker has is most likely a typo (the queue meant keeps running): say so on stderr,
    /// with the queues that do have some. Pausing ahead of a queue's first job stays possible, so this is not an error.
    /// </summary>
    private static async Task WarnIfUnknownAsync(CliContext ctx, string name)
    {
        var queues = await ctx.Admin.GetQueuesAsync(ctx.Cancellation).ConfigureAwait(false);
        static bool Used(QueueInfo q) => q.WorkerCount > 0 || Enum.GetValues<JobState>().Any(s => q.Counts[s] > 0);
        if (queues.Any(q => q.Name == name && Used(q)))
        {
            return;
        }

        var known = queues.Where(Used).Select(q => q.Name).ToArray();
        await Console.Error.WriteLineAsync($"warning: no job and no live worker has queue '{name}' (a typo?); it is paused all the same. " +
            (known.Length == 0 ? "No queue has jobs or workers yet." : "Queues in use: " + string.Join(", ", known) + ".")).ConfigureAwait(false);
    }

    private static void Report(CliContext ctx, string action, string queue, bool changed, string message)
    {
        if (ctx.Json)
        {
            JsonOut.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("action", action);
                w.WriteString("queue", queue);
                w.WriteBoolean("changed", changed);
                w.WriteEndObject();
            });
        }
        else
        {
            Console.WriteLine(message);
        }
    }
}
