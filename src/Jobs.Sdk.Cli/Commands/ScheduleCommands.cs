using ConsoleAppFramework;

namespace Jobs.Sdk.Cli;

/// <summary>schedules, schedules pause, schedules resume, trigger.</summary>
internal sealed class ScheduleCommands
{
    /// <summary>
    /// List the schedule entries published by schedulers, a page at a time by queue and entry key (prints the cursor of the
    /// next page): schedule, last and next fire, paused, stale (no running scheduler publishes it).
    /// </summary>
    /// <param name="limit">Page size (1-500).</param>
    /// <param name="cursor">The cursor printed by the previous page.</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("schedules")]
    public Task<int> Schedules(int limit = 50, string? cursor = null, string? connection = null, string schema = "jobs", bool json = false)
        => CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            if (limit is < 1 or > JobQuery.MaxLimit)
            {
                throw new CliException($"--limit: {limit} is out of range; use 1 to {JobQuery.MaxLimit}.");
            }

            var all = await ctx.Admin.GetSchedulesAsync(ctx.Cancellation).ConfigureAwait(false);
            SchedulePage page;
            try
            {
                page = SchedulePage.Of(all, cursor, limit);
            }
            catch (ArgumentException e) when (e is not ArgumentOutOfRangeException)
            {
                throw new CliException("--cursor: " + e.Message);
            }

            // The pauses an edited schedule left behind, found over every entry (a pair may span two pages).
            var left = SchedulePauseLeftBehind.Find(all);
            var entries = page.Items;
            if (ctx.Json)
            {
                JsonOut.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("items");
                    foreach (var e in entries)
                    {
                        w.WriteStartObject();
                        w.WriteString("entry", e.EntryKey);
                        w.WriteString("queue", e.QueueName);
                        w.WriteString("job", e.JobName);
                        w.WriteString("schedule", e.Schedule);
                        w.Time("lastFireAt", e.LastFireAt);
                        w.Time("nextFireAt", e.NextFireAt);
                        w.WriteBoolean("paused", e.IsPaused);
                        w.Time("lastSeenAt", e.LastSeenAt);
                        w.WriteBoolean("stale", e.IsStale);

                        // A pause an edited schedule left behind, as the dashboard API names it: on the paused stale entry
                        // the live entries firing instead, on a live entry the paused stale ones. Empty otherwise.
                        Keys(w, "firingInstead", left.Where(p => ReferenceEquals(p.Paused, e)).Select(p => p.Live.EntryKey));
                        Keys(w, "pauseLeftOn", left.Where(p => ReferenceEquals(p.Live, e)).Select(p => p.Paused.EntryKey));
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.Text("nextCursor", page.NextCursor);
                    w.WriteEndObject();
                });
                return ExitCodes.Ok;
            }

            var table = new Table("ENTRY", "QUEUE", "JOB", "SCHEDULE", "LAST FIRE", "NEXT FIRE", "PAUSED", "STALE");
            foreach (var e in entries)
            {
                table.Add(e.EntryKey, e.QueueName, e.JobName, e.Schedule, Table.Time(e.LastFireAt), Table.Time(e.NextFireAt), e.IsPaused ? "yes" : "no",
                    e.IsStale ? "yes" : "no");
            }

            table.WriteTo(Console.Out);
            Console.WriteLine(page.NextCursor is null ? $"({table.Count} entries)" : $"({table.Count} entries; next page: --cursor {page.NextCursor})");
            if (entries.Any(e => e.IsStale))
            {
                // Say what a stale entry means once, where the operator reads the table.
                Console.WriteLine("STALE: no running scheduler publishes the entry (a deploy removed it, an edited schedule gave it a new key, or every "
                    + "process that runs it is down); its next fire will not come. Not paused, it is deleted 7 days after it was last published.");
            }

            foreach (var pause in left)
            {
                Console.WriteLine("PAUSE LEFT BEHIND: " + PausesLeftBehind.Describe(pause));
            }

            return ExitCodes.Ok;
        });

    /// <summary>Pause a schedule entry: its fire times pass (and are recorded) without pushing a job, and it is not triggered, until resumed.</summary>
    /// <param name="entry">The entry key (see `jobs schedules`).</param>
    /// <param name="queue">The entry's queue: needed when the key is published in several queues (see `jobs schedules`).</param>
    /// <param name="actor">Who acts (audit log).</param>
    /// <param name="reason">Why (audit log).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("schedules pause")]
    public Task<int> Pause([Argument] string entry, string? queue = null, string? actor = null, string? reason = null, string? connection = null, string schema = "jobs",
        bool json = false)
        => EmptyArgument.RefuseEntry("schedules pause", entry) ?? SetPaused(entry, queue, paused: true, actor, reason, connection, schema, json);

    /// <summary>Resume a paused schedule entry from its next fire time (fires skipped while paused are not pushed).</summary>
    /// <param name="entry">The entry key (see `jobs schedules`).</param>
    /// <param name="queue">The entry's queue: needed when the key is published in several queues (see `jobs schedules`).</param>
    /// <param name="actor">Who acts (audit log).</param>
    /// <param name="reason">Why (audit log).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("schedules resume")]
    public Task<int> Resume([Argument] string entry, string? queue = null, string? actor = null, string? reason = null, string? connection = null, string schema = "jobs",
        bool json = false)
        => EmptyArgument.RefuseEntry("schedules resume", entry) ?? SetPaused(entry, queue, paused: false, actor, reason, connection, schema, json);

    private static Task<int> SetPaused(string entry, string? queue, bool paused, string? actor, string? reason, string? connection, string schema, bool json)
        => CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            await ctx.CheckSchemaBeforeChangeAsync().ConfigureAwait(false);
            var audit = CheckedAudit(actor, reason);
            var action = paused ? "pause" : "resume";

            // One entry: the key's, in the queue named (or the one queue that publishes the key); no such entry is an error a
            // script must see. 0 changed: it already was in that state (fine).
            var target = await ScheduleEntryArgument.FindAsync(ctx, "schedules " + action, entry, queue).ConfigureAwait(false);
            var changed = paused
                ? await ctx.Admin.PauseScheduleAsync(target.QueueName, entry, audit, ctx.Cancellation).ConfigureAwait(false)
                : await ctx.Admin.ResumeScheduleAsync(target.QueueName, entry, audit, ctx.Cancellation).ConfigureAwait(false);
            if (ctx.Json)
            {
                JsonOut.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("action", action);
                    w.WriteString("entry", entry);
                    w.WriteString("queue", target.QueueName);
                    w.WriteBoolean("changed", changed > 0);
                    w.WriteEndObject();
                });
            }
            else
            {
                var named = $"schedule entry '{entry}' of queue '{target.QueueName}'";
                Console.WriteLine(changed > 0 ? $"{named} {action}d." : paused ? $"{named} was already paused." : $"{named} was not paused.");
            }

            return ExitCodes.Ok;
        });

    /// <summary>
    /// Push a schedule entry's job now (its regular fires are unaffected). A paused entry, or one no running scheduler publishes
    /// any more, is not triggered (exit code 1); a unique job is pushed only while no job of its queue holds its key (exit code 1
    /// otherwise).
    /// </summary>
    /// <param name="entry">The entry key (see `jobs schedules`).</param>
    /// <param name="queue">The entry's queue: needed when the key is published in several queues (see `jobs schedules`).</param>
    /// <param name="actor">Who acts (audit log).</param>
    /// <param name="reason">Why (audit log).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("trigger")]
    public Task<int> Trigger([Argument] string entry, string? queue = null, string? actor = null, string? reason = null, string? connection = null, string schema = "jobs",
        bool json = false)
        => EmptyArgument.RefuseEntry("trigger", entry) ?? CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            await ctx.CheckSchemaBeforeChangeAsync().ConfigureAwait(false);
            var audit = CheckedAudit(actor, reason);
            var target = await ScheduleEntryArgument.FindAsync(ctx, "trigger", entry, queue).ConfigureAwait(false);
            int pushed;
            try
            {
                pushed = await ctx.Admin.TriggerScheduleAsync(target.QueueName, entry, audit, ctx.Cancellation).ConfigureAwait(false);
            }
            catch (ScheduleEntryPausedException)
            {
                // A pause stops the entry's triggers as it stops its fires: say how to resume it, as the operator types it here.
                throw new CliException($"schedule entry '{entry}' of queue '{target.QueueName}' is paused: nothing was triggered (a pause stops its " +
                    $"triggers as it stops its fires). Resume it first: {ScheduleEntryArgument.Command("schedules resume", target)}; its fires come on " +
                    "schedule again; then trigger it.") { ExitCode = ExitCodes.Failed };
            }

            if (pushed == 0)
            {
                // Nothing pushed: its job is unique and a job of its queue holds the key (the promise holds).
                await Console.Error.WriteLineAsync($"error: pushed no job for '{entry}' of queue '{target.QueueName}': its job is unique and a job of its " +
                    "queue holds its key (waiting, running, or finished within its UniqueFor).").ConfigureAwait(false);
                return ExitCodes.Failed;
            }

            if (ctx.Json)
            {
                JsonOut.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("entry", entry);
                    w.WriteString("queue", target.QueueName);
                    w.WriteNumber("pushed", pushed);
                    w.WriteEndObject();
                });
            }
            else
            {
                Console.WriteLine($"trigger: pushed {pushed} job(s) for '{entry}' in queue '{target.QueueName}'.");
            }

            return ExitCodes.Ok;
        });

    private static void Keys(System.Text.Json.Utf8JsonWriter w, string name, IEnumerable<string> keys)
    {
        w.WriteStartArray(name);
        foreach (var key in keys)
        {
            w.WriteStringValue(key);
        }

        w.WriteEndArray();
    }

    /// <summary>
    /// The command's audit information, checked as <see cref="JobAdmin"/> checks it (storable, within its caps) before the
    /// entry is looked up: an over-long or unstorable <c>--actor</c>/<c>--reason</c> is a command line the tool cannot use
    /// (exit 64), whether or not the entry exists.
    /// </summary>
    private static AuditInfo CheckedAudit(string? actor, string? reason)
    {
        var audit = CliContext.Audit(actor, reason);
        JobTextLimits.CheckAudit(audit, "audit");
        return audit;
    }
}
