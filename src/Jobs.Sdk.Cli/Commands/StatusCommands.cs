using ConsoleAppFramework;

namespace Jobs.Sdk.Cli;

/// <summary>status.</summary>
internal sealed class StatusCommands
{
    /// <summary>Per queue: jobs per state, oldest waiting job, paused, live workers; then the live workers.</summary>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("status")]
    public Task<int> Status(string? connection = null, string schema = "jobs", bool json = false)
        => CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            var queues = await ctx.Admin.GetQueuesAsync(ctx.Cancellation).ConfigureAwait(false);
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
            Console.WriteLine();
            var wt = new Table("WORKER", "HOST", "PID", "QUEUES", "RUNNING", "LAST HEARTBEAT");
            foreach (var wk in workers)
            {
                wt.Add(wk.WorkerId, wk.Host, N(wk.ProcessId), string.Join(',', wk.Queues), $"{wk.RunningCount}/{wk.Concurrency}", Table.Time(wk.LastHeartbeatAt));
            }

            wt.WriteTo(Console.Out);
            return ExitCodes.Ok;
        });

    private static string N(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
