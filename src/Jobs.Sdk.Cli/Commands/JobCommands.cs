using ConsoleAppFramework;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Cli;

/// <summary>list, show, retry, cancel, delete, run-now, priority.</summary>
internal sealed class JobCommands
{
    /// <summary>List jobs, newest first (or by run time), with filters; prints the cursor of the next page.</summary>
    /// <param name="queue">Only this queue.</param>
    /// <param name="state">Only these states (comma-separated: pending,processing,retrying,completed,failed,cancelled,paused).</param>
    /// <param name="name">Only these job names (comma-separated).</param>
    /// <param name="payload">Payload contains this JSON (jsonb @>), e.g. '{"to":"a@b.c"}'.</param>
    /// <param name="text">Payload contains this text (case-insensitive).</param>
    /// <param name="error">Last error contains this text (case-insensitive).</param>
    /// <param name="since">Pushed at or after (ISO time, or an age: 2h, 7d).</param>
    /// <param name="until">Pushed before (ISO time, or an age).</param>
    /// <param name="order">newest or run-at.</param>
    /// <param name="limit">Page size (1-500).</param>
    /// <param name="cursor">The cursor printed by the previous page.</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("list")]
    public Task<int> List(string? queue = null, string? state = null, string? name = null, string? payload = null, string? text = null, string? error = null,
        string? since = null, string? until = null, string order = "newest", int limit = 50, string? cursor = null,
        string? connection = null, string schema = "jobs", bool json = false)
        => CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            var query = JobFilters.Build(queue, state, name, payload, text, error, since, until, order, limit, cursor, listing: true);
            var page = await ctx.Admin.ListJobsAsync(query, ctx.Cancellation).ConfigureAwait(false);
            if (ctx.Json)
            {
                JsonOut.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("items");
                    foreach (var j in page.Items)
                    {
                        w.WriteStartObject();
                        w.Summary(j);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.Text("nextCursor", page.NextCursor);
                    w.WriteBoolean("searchStopped", page.NextCursor is not null && page.Items.Count < query.Limit);
                    w.WriteEndObject();
                });
            }
            else
            {
                var table = new Table("ID", "QUEUE", "NAME", "STATE", "ATTEMPT", "RUN AT", "ERROR");
                foreach (var j in page.Items)
                {
                    table.Add(j.Id.ToString(), j.QueueName, j.Name, JsonOut.StateName(j.State), $"{j.Attempts}/{j.MaxAttempts}", Table.Time(j.RunAt), j.LastError);
                }

                table.WriteTo(Console.Out);
                Console.WriteLine(page.NextCursor is null ? $"({table.Count} jobs)"
                    : table.Count < query.Limit ? $"({table.Count} jobs so far: the search stopped for time before it read every job; search on with --cursor {page.NextCursor})"
                    : $"({table.Count} jobs; next page: --cursor {page.NextCursor})");
            }

            if (page.Items.Count == 0 && page.NextCursor is null && cursor is null && queue is not null)
            {
                await UnknownQueue.WarnAsync(ctx, queue, "no job is listed.").ConfigureAwait(false);
            }

            if (page.Items.Count == 0 && page.NextCursor is null && cursor is null && query.Names is { Count: > 0 } names)
            {
                await UnknownJobName.WarnAsync(ctx, names, "no job is listed.").ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });

    /// <summary>Show everything stored about one job.</summary>
    /// <param name="id">The job id.</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("show")]
    public Task<int> Show([Argument] string id, string? connection = null, string schema = "jobs", bool json = false)
        => CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            var job = await ctx.Admin.GetJobAsync(JobFilters.ParseId(id), ctx.Cancellation).ConfigureAwait(false);
            if (job is null)
            {
                await Console.Error.WriteLineAsync($"error: job {id} is not stored (never pushed, deleted, or removed by retention).").ConfigureAwait(false);
                return ExitCodes.Failed;
            }

            if (ctx.Json)
            {
                JsonOut.Write(w =>
                {
                    w.WriteStartObject();
                    w.Summary(job);
                    w.WritePropertyName("payload");
                    w.WriteRawValue(job.Payload);
                    w.WriteStartObject("headers");
                    foreach (var (k, v) in job.Headers)
                    {
                        w.WriteString(k, v);
                    }

                    w.WriteEndObject();
                    w.WriteStartArray("errors");
                    foreach (var e in job.Errors)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("attempt", e.Attempt);
                        w.WriteString("error", e.Error);
                        w.Text("stackTrace", e.StackTrace);
                        w.Time("at", e.At);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.Time("leaseExpiresAt", job.LeaseExpiresAt);
                    w.WriteBoolean("cancelRequested", job.CancelRequested);
                    w.WriteBoolean("deleteRequested", job.DeleteRequested);
                    w.Text("traceId", job.TraceId);
                    w.WriteEndObject();
                });
                return ExitCodes.Ok;
            }

            var o = Console.Out;
            o.WriteLine($"id:          {job.Id}");
            o.WriteLine($"name:        {job.Name}");
            o.WriteLine($"queue:       {job.QueueName}");
            o.WriteLine($"state:       {JsonOut.StateName(job.State)}{(job.DeleteRequested ? " (deleted: removed when its attempt ends)" : job.CancelRequested ? " (cancel requested)" : "")}");
            o.WriteLine($"priority:    {job.Priority}");
            o.WriteLine($"attempts:    {job.Attempts} of {job.MaxAttempts}");
            o.WriteLine($"queued at:   {Table.Time(job.QueuedAt)}");
            o.WriteLine($"run at:      {Table.Time(job.RunAt)}");
            o.WriteLine($"started at:  {Table.Time(job.StartedAt)}");
            o.WriteLine($"finished at: {Table.Time(job.FinishedAt)}");
            o.WriteLine($"worker:      {job.WorkerId ?? "-"}");
            o.WriteLine($"lease until: {Table.Time(job.LeaseExpiresAt)}");
            o.WriteLine($"trace id:    {job.TraceId ?? "-"}");
            o.WriteLine($"payload:     {job.Payload}");
            foreach (var (k, v) in job.Headers)
            {
                o.WriteLine($"header:      {k} = {v}");
            }

            foreach (var e in job.Errors)
            {
                o.WriteLine($"error (attempt {e.Attempt}): {e.Error}");
                if (e.StackTrace is { } stack)
                {
                    foreach (var line in stack.Split('\n'))
                    {
                        o.WriteLine($"    {line.TrimEnd('\r')}");
                    }
                }
            }

            return ExitCodes.Ok;
        });

    /// <summary>Retry failed, cancelled or retrying jobs now (`[options] ID...`, or every job matching the filters).</summary>
    /// <param name="fromFirst">Restart from attempt 1 instead of the next attempt.</param>
    /// <param name="queue">Only this queue.</param>
    /// <param name="state">Only these states (comma-separated).</param>
    /// <param name="name">Only these job names (comma-separated).</param>
    /// <param name="payload">Payload contains this JSON.</param>
    /// <param name="text">Payload contains this text.</param>
    /// <param name="error">Last error contains this text.</param>
    /// <param name="since">Pushed at or after.</param>
    /// <param name="until">Pushed before.</param>
    /// <param name="all">Allow acting on every job when no id and no filter is given.</param>
    /// <param name="dryRun">Change nothing: say how many jobs this would change, and the first of them (exit 1 when named ids would not change).</param>
    /// <param name="actor">Who acts (audit log; default cli:user@host).</param>
    /// <param name="reason">Why (audit log).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    /// <param name="ids">Job ids.</param>
    [Command("retry")]
    public Task<int> Retry(bool fromFirst = false, string? queue = null, string? state = null, string? name = null, string? payload = null, string? text = null,
        string? error = null, string? since = null, string? until = null, bool all = false, bool dryRun = false, string? actor = null, string? reason = null,
        string? connection = null, string schema = "jobs", bool json = false, [Argument] params string[] ids)
        => BulkCommand.RunAsync("retry", () => new JobAdminAction(JobAdminActionKind.Retry, FromFirstAttempt: fromFirst), dryRun, ids, queue, state, name, payload, text, error, since, until, all, actor, reason, connection, schema, json);

    /// <summary>Cancel waiting jobs and ask running ones to stop (`[options] ID...`, or every job matching the filters).</summary>
    /// <param name="queue">Only this queue.</param>
    /// <param name="state">Only these states (comma-separated).</param>
    /// <param name="name">Only these job names (comma-separated).</param>
    /// <param name="payload">Payload contains this JSON.</param>
    /// <param name="text">Payload contains this text.</param>
    /// <param name="error">Last error contains this text.</param>
    /// <param name="since">Pushed at or after.</param>
    /// <param name="until">Pushed before.</param>
    /// <param name="all">Allow acting on every job when no id and no filter is given.</param>
    /// <param name="dryRun">Change nothing: say how many jobs this would change, and the first of them (exit 1 when named ids would not change).</param>
    /// <param name="actor">Who acts (audit log).</param>
    /// <param name="reason">Why (audit log).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    /// <param name="ids">Job ids.</param>
    [Command("cancel")]
    public Task<int> Cancel(string? queue = null, string? state = null, string? name = null, string? payload = null, string? text = null,
        string? error = null, string? since = null, string? until = null, bool all = false, bool dryRun = false, string? actor = null, string? reason = null,
        string? connection = null, string schema = "jobs", bool json = false, [Argument] params string[] ids)
        => BulkCommand.RunAsync("cancel", () => new JobAdminAction(JobAdminActionKind.Cancel), dryRun, ids, queue, state, name, payload, text, error, since, until, all, actor, reason, connection, schema, json);

    /// <summary>Delete jobs in any state (`[options] ID...`, or every job matching the filters).</summary>
    /// <param name="queue">Only this queue.</param>
    /// <param name="state">Only these states (comma-separated).</param>
    /// <param name="name">Only these job names (comma-separated).</param>
    /// <param name="payload">Payload contains this JSON.</param>
    /// <param name="text">Payload contains this text.</param>
    /// <param name="error">Last error contains this text.</param>
    /// <param name="since">Pushed at or after.</param>
    /// <param name="until">Pushed before.</param>
    /// <param name="all">Allow acting on every job when no id and no filter is given.</param>
    /// <param name="dryRun">Change nothing: say how many jobs this would change, and the first of them (exit 1 when named ids would not change).</param>
    /// <param name="actor">Who acts (audit log).</param>
    /// <param name="reason">Why (audit log).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    /// <param name="ids">Job ids.</param>
    [Command("delete")]
    public Task<int> Delete(string? queue = null, string? state = null, string? name = null, string? payload = null, string? text = null,
        string? error = null, string? since = null, string? until = null, bool all = false, bool dryRun = false, string? actor = null, string? reason = null,
        string? connection = null, string schema = "jobs", bool json = false, [Argument] params string[] ids)
        => BulkCommand.RunAsync("delete", () => new JobAdminAction(JobAdminActionKind.Delete), dryRun, ids, queue, state, name, payload, text, error, since, until, all, actor, reason, connection, schema, json);

    /// <summary>Make delayed pending or retrying jobs due now (`[options] ID...`, or every job matching the filters).</summary>
    /// <param name="queue">Only this queue.</param>
    /// <param name="state">Only these states (comma-separated).</param>
    /// <param name="name">Only these job names (comma-separated).</param>
    /// <param name="payload">Payload contains this JSON.</param>
    /// <param name="text">Payload contains this text.</param>
    /// <param name="error">Last error contains this text.</param>
    /// <param name="since">Pushed at or after.</param>
    /// <param name="until">Pushed before.</param>
    /// <param name="all">Allow acting on every job when no id and no filter is given.</param>
    /// <param name="dryRun">Change nothing: say how many jobs this would change, and the first of them (exit 1 when named ids would not change).</param>
    /// <param name="actor">Who acts (audit log).</param>
    /// <param name="reason">Why (audit log).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    /// <param name="ids">Job ids.</param>
    [Command("run-now")]
    public Task<int> RunNow(string? queue = null, string? state = null, string? name = null, string? payload = null, string? text = null,
        string? error = null, string? since = null, string? until = null, bool all = false, bool dryRun = false, string? actor = null, string? reason = null,
        string? connection = null, string schema = "jobs", bool json = false, [Argument] params string[] ids)
        => BulkCommand.RunAsync("run-now", () => new JobAdminAction(JobAdminActionKind.RunNow), dryRun, ids, queue, state, name, payload, text, error, since, until, all, actor, reason, connection, schema, json);

    /// <summary>Set the priority of waiting jobs: pending, retrying, paused (`--to LEVEL [options] ID...`, or every job matching the filters).</summary>
    /// <param name="to">The new priority: lowest, lower, normal, higher or highest.</param>
    /// <param name="queue">Only this queue.</param>
    /// <param name="state">Only these states (comma-separated).</param>
    /// <param name="name">Only these job names (comma-separated).</param>
    /// <param name="payload">Payload contains this JSON.</param>
    /// <param name="text">Payload contains this text.</param>
    /// <param name="error">Last error contains this text.</param>
    /// <param name="since">Pushed at or after.</param>
    /// <param name="until">Pushed before.</param>
    /// <param name="all">Allow acting on every job when no id and no filter is given.</param>
    /// <param name="dryRun">Change nothing: say how many jobs this would change, and the first of them (exit 1 when named ids would not change).</param>
    /// <param name="actor">Who acts (audit log).</param>
    /// <param name="reason">Why (audit log).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    /// <param name="ids">Job ids.</param>
    [Command("priority")]
    public Task<int> Priority(string to, string? queue = null, string? state = null, string? name = null, string? payload = null, string? text = null,
        string? error = null, string? since = null, string? until = null, bool all = false, bool dryRun = false, string? actor = null, string? reason = null,
        string? connection = null, string schema = "jobs", bool json = false, [Argument] params string[] ids)
        => BulkCommand.RunAsync("priority", () => new JobAdminAction(JobAdminActionKind.SetPriority, Priority: JobFilters.ParsePriority(to)), dryRun, ids, queue, state, name, payload, text, error, since, until, all, actor, reason, connection, schema, json);
}
