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
        => EmptyArgument.RefuseQueue("queue pause", name) ?? CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            await ctx.CheckSchemaBeforeChangeAsync().ConfigureAwait(false);
            var changed = await ctx.Admin.PauseQueueAsync(name, reason, CliContext.Audit(actor, reason), ctx.Cancellation).ConfigureAwait(false);
            Report(ctx, "pause", name, changed, changed ? $"queue '{name}' paused." : $"queue '{name}' was already paused (reason updated).");
            await UnknownQueue.WarnAsync(ctx, name, "it is paused all the same.").ConfigureAwait(false);
            return ExitCodes.Ok;
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
        => EmptyArgument.RefuseQueue("queue resume", name) ?? CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            await ctx.CheckSchemaBeforeChangeAsync().ConfigureAwait(false);
            var changed = await ctx.Admin.ResumeQueueAsync(name, CliContext.Audit(actor, reason), ctx.Cancellation).ConfigureAwait(false);
            Report(ctx, "resume", name, changed, changed ? $"queue '{name}' resumed." : $"queue '{name}' was not paused.");
            return ExitCodes.Ok;
        });

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
