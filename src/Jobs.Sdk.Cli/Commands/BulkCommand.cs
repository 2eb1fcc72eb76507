using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Cli;

/// <summary>
/// The body of retry, cancel, delete, run-now and priority: the selection (ids, or filters, or --all), then the action or,
/// with --dry-run, its preview. Both take the one <see cref="JobAdminAction"/> the command built and the one selection, and
/// <see cref="JobAdmin"/> walks that selection the same way for both, so a dry run counts what the command would change.
/// </summary>
internal static class BulkCommand
{
    /// <summary>How many job ids a dry run prints.</summary>
    private const int SampleSize = 10;

    public static Task<int> RunAsync(string verb, Func<JobAdminAction> action, bool dryRun, string[] ids, string? queue, string? state, string? name,
        string? payload, string? text, string? error, string? since, string? until, bool all, string? actor, string? reason,
        string? connection, string schema, bool json)
        // An option after the ids is read as one more id (--connection among them: checked before the connection is opened).
        => ids.FirstOrDefault(i => i.StartsWith('-')) is { } misplaced
            ? CliRunner.UsageErrorAsync($"{verb}: '{misplaced}' comes after the job ids; put options first: jobs {verb} [options] ID...")
            : CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            var query = JobFilters.Build(queue, state, name, payload, text, error, since, until);
            JobSelection selection;
            var requested = 0;
            if (ids.Length > 0)
            {
                if (JobFilters.HasFilters(query))
                {
                    throw new CliException($"{verb}: give job ids or filters, not both.");
                }

                var parsed = ids.Select(JobFilters.ParseId).Distinct().ToArray();
                requested = parsed.Length;
                selection = JobSelection.Ids(parsed);
            }
            else if (JobFilters.HasFilters(query) || all)
            {
                // "Every job matching" means the jobs queued before the command ran, as in the dashboard: jobs pushed while
                // its batches run match too, and on a busy queue the batches would otherwise never catch up with them.
                // Read on the store's clock, on which queued times are written.
                var ranAt = await ctx.Admin.GetStoreTimeAsync(ctx.Cancellation).ConfigureAwait(false);
                selection = JobSelection.Matching(query with { QueuedBefore = query.QueuedBefore is { } until && until < ranAt ? until : ranAt });
            }
            else
            {
                throw new CliException($"{verb}: give job ids, or filters (--queue, --state, --name, ...), or --all to act on every job.");
            }

            var (exit, found) = dryRun
                ? await PreviewAsync(ctx, verb, action(), selection, requested).ConfigureAwait(false)
                : await ApplyAsync(ctx, verb, action(), selection, requested, CliContext.Audit(actor, reason)).ConfigureAwait(false);
            if (found == 0 && selection.Query?.Queue is { } named)
            {
                await UnknownQueue.WarnAsync(ctx, named, "nothing matched.").ConfigureAwait(false);
            }

            if (found == 0 && selection.Query?.Names is { Count: > 0 } names)
            {
                await UnknownJobName.WarnAsync(ctx, names, "nothing matched.").ConfigureAwait(false);
            }

            return exit;
        });

    /// <returns>The exit code, and how many jobs the action changed.</returns>
    private static async Task<(int Exit, int Found)> ApplyAsync(CliContext ctx, string verb, JobAdminAction action, JobSelection selection, int requested, AuditInfo audit)
    {
        await ctx.CheckSchemaBeforeChangeAsync().ConfigureAwait(false);
        var admin = ctx.Admin;
        var progress = new BulkProgressLine(verb);
        int changed;
        JobsLockedException? locked = null;
        try
        {
            changed = await (action.Kind switch
            {
                JobAdminActionKind.Retry => admin.RetryAsync(selection, action.FromFirstAttempt, audit, progress, ctx.Cancellation),
                JobAdminActionKind.Cancel => admin.CancelAsync(selection, audit, progress, ctx.Cancellation),
                JobAdminActionKind.Delete => admin.DeleteAsync(selection, audit, progress, ctx.Cancellation),
                JobAdminActionKind.RunNow => admin.RunNowAsync(selection, audit, progress, ctx.Cancellation),
                JobAdminActionKind.SetPriority => admin.SetPriorityAsync(selection, action.Priority, audit, progress, ctx.Cancellation),
                _ => throw new ArgumentOutOfRangeException(nameof(action), action.Kind, "Unknown admin action."),
            }).ConfigureAwait(false);
        }
        catch (JobsLockedException ex) when (!ctx.Cancellation.IsCancellationRequested)
        {
            // Every job it could was changed (and audited); the ones other transactions held locked are listed below.
            (changed, locked) = (ex.Changed, ex);
        }
        catch (Exception ex) when (ctx.Cancellation.IsCancellationRequested)
        {
            // Each batch is its own transaction: the one running was rolled back. JobAdmin audited (and counts in its
            // message) the batches that committed before.
            throw new CliInterruptedException(ex is JobsException
                ? $"{ex.Message} The batch that was running was rolled back; the jobs changed before it are in the audit log (jobs audit). Run the command again for the rest."
                : $"{verb}: no job was changed.", ex);
        }

        if (ctx.Json)
        {
            JsonOut.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("action", verb);
                w.WriteNumber("changed", changed);
                if (requested > 0)
                {
                    w.WriteNumber("requested", requested);
                }

                if (locked is not null)
                {
                    w.WriteStartArray("locked");
                    foreach (var id in locked.LockedJobs)
                    {
                        w.WriteStringValue(id.ToString());
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            });
        }
        else
        {
            Console.WriteLine($"{verb}: {changed} job(s) changed.");
        }

        // Jobs other transactions held locked: the message names the sessions and what to do; running again later may pass.
        if (locked is not null)
        {
            await Console.Error.WriteLineAsync("error: " + locked.Message).ConfigureAwait(false);
            return (ExitCodes.TryAgain, changed);
        }

        // Named jobs that were not changed are an error a script must see (filters may match nothing: that is fine).
        if (changed < requested)
        {
            await Console.Error.WriteLineAsync($"error: {verb}: {requested - changed} of the {requested} job id(s) given did not change: they do not exist, " +
                $"or {verb} does not apply to their state (see jobs show ID).").ConfigureAwait(false);
            return (ExitCodes.Failed, changed);
        }

        return (ExitCodes.Ok, changed);
    }

    /// <summary>The dry run: what the action would change, nothing changed, no audit entry; exits as the action would.</summary>
    /// <returns>The exit code, and how many jobs the selection holds.</returns>
    private static async Task<(int Exit, int Found)> PreviewAsync(CliContext ctx, string verb, JobAdminAction action, JobSelection selection, int requested)
    {
        var preview = await ctx.Admin.PreviewAsync(selection, action, SampleSize, ctx.Cancellation).ConfigureAwait(false);
        if (ctx.Json)
        {
            JsonOut.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("action", verb);
                w.WriteBoolean("dryRun", true);
                w.WriteNumber(requested > 0 ? "requested" : "matched", preview.Selected);
                w.WriteNumber("wouldChange", preview.WouldChange);
                w.Strings("sample", preview.Sample.Select(id => id.ToString()));
                w.WriteEndObject();
            });
        }
        else
        {
            Console.WriteLine($"{verb} --dry-run: {preview.WouldChange} job(s) would change (of {preview.Selected} {(requested > 0 ? "given" : "matching")}); nothing was changed.");
            if (preview.Sample.Count > 0)
            {
                Console.WriteLine((preview.Sample.Count < preview.WouldChange ? $"the first {preview.Sample.Count}: " : "they are: ") + string.Join(", ", preview.Sample));
            }
        }

        // The action would exit 1 here (a named job that would not change): a script testing the dry run learns it now.
        if (preview.WouldChange < requested)
        {
            await Console.Error.WriteLineAsync($"error: {verb} --dry-run: {requested - preview.WouldChange} of the {requested} job id(s) given would not change: " +
                $"they do not exist, or {verb} does not apply to their state (see jobs show ID).").ConfigureAwait(false);
            return (ExitCodes.Failed, preview.Selected);
        }

        return (ExitCodes.Ok, preview.Selected);
    }
}
