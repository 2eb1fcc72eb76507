using ConsoleAppFramework;

namespace Jobs.Sdk.Cli;

/// <summary>status.</summary>
internal sealed class StatusCommands
{
    /// <summary>
    /// Per queue: jobs per state, oldest waiting job, paused, live workers; then the live workers. Every queue, or with
    /// --limit/--cursor a page of them by name (prints the cursor of the next page), as `jobs schedules` pages.
    /// </summary>
    /// <param name="limit">Queues per page (1-500); every queue without it (50 a page when only --cursor is given).</param>
    /// <param name="cursor">The cursor printed by the previous page.</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("status")]
    public Task<int> Status(int? limit = null, string? cursor = null, string? connection = null, string schema = "jobs", bool json = false)
        => CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            var page = await QueuePageAsync(ctx, limit, cursor).ConfigureAwait(false);
            var queues = page?.Items ?? await ctx.Admin.GetQueuesAsync(ctx.Cancellation).ConfigureAwait(false);
            var workers = await ctx.Admin.GetWorkersAsync(ctx.Cancellation).ConfigureAwait(false);
            if (ctx.Json)
            {
                JsonOut.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("queues");
                    foreach (var q in queues)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", q.Name);
                        w.WriteBoolean("paused", q.IsPaused);
                        w.Text("pausedReason", q.PausedReason);
                        w.Time("pausedAt", q.PausedAt);
                        w.Counts("counts", q.Counts);
                        if (q.OldestWaitingAge is { } age)
                        {
                            w.WriteNumber("oldestWaitingSeconds", Math.Round(age.TotalSeconds, 3));
                        }
                        else
                        {
                            w.WriteNull("oldestWaitingSeconds");
                        }

                        w.WriteNumber("workers", q.WorkerCount);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    if (page is not null)
                    {
                        w.Text("nextCursor", page.NextCursor);
                    }

                    w.WriteStartArray("workers");
                    foreach (var wk in workers)
                    {
                        w.WriteStartObject();
                        w.WriteString("id", wk.WorkerId);
                        w.WriteString("host", wk.Host);
                        w.WriteNumber("pid", wk.ProcessId);
                        w.Time("startedAt", wk.StartedAt);
                        w.Time("lastHeartbeatAt", wk.LastHeartbeatAt);
                        w.Strings("queues", wk.Queues);
                        w.Strings("jobNames", wk.JobNames);
                        w.WriteNumber("running", wk.RunningCount);
                        w.WriteNumber("concurrency", wk.Concurrency);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                return ExitCodes.Ok;
            }

            var table = new Table("QUEUE", "PAUSED", "PENDING", "PROCESSING", "RETRYING", "FAILED", "COMPLETED", "CANCELLED", "PAUSED JOBS", "OLDEST WAITING", "WORKERS");
            foreach (var q in queues)
            {
                table.Add(q.Name, q.IsPaused ? "yes" + (q.PausedReason is null ? "" : $" ({q.PausedReason})") : "no",
                    N(q.Counts.Pending), N(q.Counts.Processing), N(q.Counts.Retrying), N(q.Counts.Failed), N(q.Counts.Completed),
                    N(q.Counts.Cancelled), N(q.Counts.Paused), Table.Age(q.OldestWaitingAge), N(q.WorkerCount));
            }

            table.WriteTo(Console.Out);
            if (page is not null)
            {
                Console.WriteLine(page.NextCursor is null ? $"({table.Count} queues)" : $"({table.Count} queues; next page: --cursor {page.NextCursor})");
            }

            Console.WriteLine();
            var wt = new Table("WORKER", "HOST", "PID", "QUEUES", "RUNNING", "LAST HEARTBEAT");
            foreach (var wk in workers)
            {
                wt.Add(wk.WorkerId, wk.Host, N(wk.ProcessId), string.Join(',', wk.Queues), $"{wk.RunningCount}/{wk.Concurrency}", Table.Time(wk.LastHeartbeatAt));
            }

            wt.WriteTo(Console.Out);
            return ExitCodes.Ok;
        });

    /// <summary>
    /// The page of queues --limit and --cursor ask for (a cursor alone pages by <see cref="DefaultLimit"/>), or
    /// <see langword="null"/> without either: every queue, as the command printed before it paged.
    /// </summary>
    private static async Task<QueuePage?> QueuePageAsync(CliContext ctx, int? limit, string? cursor)
    {
        if (limit is null && string.IsNullOrEmpty(cursor))
        {
            return null;
        }

        if (limit is < 1 or > JobQuery.MaxLimit)
        {
            throw new CliException($"--limit: {limit} is out of range; use 1 to {JobQuery.MaxLimit}.");
        }

        try
        {
            return await ctx.Admin.GetQueuesAsync(limit ?? DefaultLimit, cursor, ctx.Cancellation).ConfigureAwait(false);
        }
        catch (ArgumentException e) when (e is not ArgumentOutOfRangeException && e.ParamName == nameof(cursor))
        {
            throw new CliException("--cursor: " + e.Message);
        }
    }

    /// <summary>Queues per page given only a --cursor: the page size of <c>jobs schedules</c> and <c>jobs list</c>.</summary>
    private const int DefaultLimit = 50;

    private static string N(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
