using System.Globalization;
using Jobs.Sdk.Dashboard.Access;
using Jobs.Sdk.Drivers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Jobs.Sdk.Dashboard;

/// <summary>The jobs list (filters, newest first, cursor paging), one job's details, and the bulk actions.</summary>
internal static class JobEndpoints
{
    /// <summary><c>GET api/jobs?queue=&amp;state=&amp;name=&amp;text=&amp;error=&amp;cursor=&amp;limit=</c></summary>
    public static async Task ListAsync(HttpContext context)
    {
        var q = context.Request.Query;
        var pageSize = context.RequestServices.GetRequiredService<IOptions<JobsDashboardOptions>>().Value.PageSize;
        var limit = int.TryParse(q["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, JobQuery.MaxLimit) : pageSize;
        var filter = new JobFilterDto(q["queue"], q["state"], q["name"], q["text"], q["error"]);
        var query = DashboardMapping.ToQuery(filter, limit, q["cursor"]);
        var page = await Admin(context).ListJobsAsync(query, context.RequestAborted);
        var dto = new JobPageDto(page.Items.Select(DashboardMapping.ToDto).ToArray(), page.NextCursor, page.NextCursor is not null && page.Items.Count < limit);
        await HttpJson.WriteAsync(context, dto, DashboardJsonContext.Default.JobPageDto);
    }

    /// <summary><c>GET api/jobs/{id}</c></summary>
    public static async Task GetAsync(HttpContext context)
    {
        if (!JobId.TryParse(context.Request.RouteValues["id"] as string, CultureInfo.InvariantCulture, out var id))
        {
            await HttpJson.ErrorAsync(context, StatusCodes.Status400BadRequest, "The job id is not a UUID.");
            return;
        }

        var job = await Admin(context).GetJobAsync(id, context.RequestAborted);
        if (job is null)
        {
            await HttpJson.ErrorAsync(context, StatusCodes.Status404NotFound, $"Job {id} is not stored (it never existed, or retention or cleanup removed it).");
            return;
        }

        await HttpJson.WriteAsync(context, DashboardMapping.ToDto(job), DashboardJsonContext.Default.JobDetailsDto);
    }

    /// <summary>
/// <c>POST api/jobs/{action}</c> with <c>{ ids: [...] }</c> or <c>{ filter: {...} }</c>, <c>reason</c>, and <c>priority</c> for <c>priority</c>.
/// 409 (<see cref="BulkActionConflict"/>) when JobAdmin ended it part-way: jobs other transactions held locked, or a job past statement_timeout.
/// </summary>
    public static async Task ActAsync(HttpContext context)
    {
        if (await ReadAsync(context) is not { } read)
        {
            return;
        }

        var (request, action, selection) = read;
        var admin = Admin(context);
        var ct = context.RequestAborted;
        var audit = new AuditInfo(DashboardAccess.Actor(context), string.IsNullOrWhiteSpace(request.Reason) ? null : request.Reason);
        int changed;
        try
        {
            changed = action.Kind switch
            {
                JobAdminActionKind.Retry => await admin.RetryAsync(selection, action.FromFirstAttempt, audit, ct),
                JobAdminActionKind.Cancel => await admin.CancelAsync(selection, audit, ct),
                JobAdminActionKind.Delete => await admin.DeleteAsync(selection, audit, ct),
                JobAdminActionKind.RunNow => await admin.RunNowAsync(selection, audit, ct),
                _ => await admin.SetPriorityAsync(selection, action.Priority, audit, ct),
            };
        }
        catch (JobsException ex) when (!ct.IsCancellationRequested && !context.Response.HasStarted && BulkActionConflict.From(ex) is { } conflict)
        {
            // JobAdmin ended it part-way (and audited what changed): locked jobs left, or one job past statement_timeout.
            await HttpJson.WriteAsync(context, conflict, DashboardJsonContext.Default.ActionConflictResponse, StatusCodes.Status409Conflict);
            return;
        }

        await HttpJson.WriteAsync(context, new ActionResponse(changed), DashboardJsonContext.Default.ActionResponse);
    }

    /// <summary>
    /// <c>POST api/jobs/{action}/preview</c> with the action's body: a dry run (<see cref="JobAdmin.PreviewAsync"/>) that counts
    /// the jobs of the selection and how many of them the action would change, by its own conditions. A read: it changes
    /// nothing and writes no audit entry (a POST only because the selection is the action's JSON body, ids included).
    /// </summary>
    public static async Task PreviewAsync(HttpContext context)
    {
        if (await ReadAsync(context) is not { } read)
        {
            return;
        }

        var (_, action, selection) = read;

        JobActionPreview preview;
        try
        {
            preview = await Admin(context).PreviewAsync(selection, action, PreviewSampleSize, context.RequestAborted);
        }
        catch (NotSupportedException ex)
        {
            await HttpJson.ErrorAsync(context, StatusCodes.Status501NotImplemented, ex.Message);
            return;
        }

        var dto = new ActionPreviewResponse(preview.Selected, preview.WouldChange, preview.Sample.Select(id => id.ToString()).ToArray());
        await HttpJson.WriteAsync(context, dto, DashboardJsonContext.Default.ActionPreviewResponse);
    }

    /// <summary>How many job ids a preview names (the confirm dialog lists them, then "and N more").</summary>
    private const int PreviewSampleSize = 5;

    /// <summary>
    /// The action and the selection of <c>POST api/jobs/{action}</c> and of its preview, parsed once for both; null after
    /// writing the error (400, 404, 415).
    /// </summary>
    private static async Task<(JobActionRequest Request, JobAdminAction Action, JobSelection Selection)?> ReadAsync(HttpContext context)
    {
        var request = await HttpJson.ReadAsync(context, DashboardJsonContext.Default.JobActionRequest);
        if (request is null)
        {
            return null;
        }

        var name = context.Request.RouteValues["action"] as string;
        JobAdminAction? action = name switch
        {
            "retry" => new JobAdminAction(JobAdminActionKind.Retry, FromFirstAttempt: request.FromFirstAttempt),
            "cancel" => new JobAdminAction(JobAdminActionKind.Cancel),
            "delete" => new JobAdminAction(JobAdminActionKind.Delete),
            "run-now" => new JobAdminAction(JobAdminActionKind.RunNow),
            "priority" => new JobAdminAction(JobAdminActionKind.SetPriority, Priority: DashboardMapping.ParsePriority(request.Priority)),
            _ => null,
        };
        if (action is null)
        {
            await HttpJson.ErrorAsync(context, StatusCodes.Status404NotFound, $"Unknown job action '{name}': use retry, cancel, delete, run-now or priority.");
            return null;
        }

        var askedAt = request.Filter is null ? default : await AskedAtAsync(Admin(context), context.RequestAborted);
        return (request, action.Value, Selection(request, askedAt));
    }

    /// <summary>
    /// When the operator asked: "every job matching these filters" means the jobs queued before then. Jobs pushed while the
    /// action's batches run match the filters too, and on a busy queue the batches would otherwise never catch up with them.
    /// Read on the store's clock, on which queued times are written: a host whose clock is behind would leave out the latest jobs.
    /// </summary>
    private static Task<DateTimeOffset> AskedAtAsync(JobAdmin admin, CancellationToken cancellationToken) => admin.GetStoreTimeAsync(cancellationToken);

    private static JobSelection Selection(JobActionRequest request, DateTimeOffset askedAt)
    {
        if (request.Ids is { Count: > 0 } ids)
        {
            if (request.Filter is not null)
            {
                throw new ArgumentException("Send either ids or filter, not both.");
            }

            return JobSelection.Ids(ids.Select(s => JobId.TryParse(s, CultureInfo.InvariantCulture, out var id)
                ? id
                : throw new ArgumentException($"'{s}' is not a job id.")));
        }

        if (request.Filter is { } filter)
        {
            return JobSelection.Matching(DashboardMapping.ToQuery(filter, JobQuery.MaxLimit, null) with { QueuedBefore = askedAt });
        }

        throw new ArgumentException("Select jobs: send ids (a non-empty list) or filter.");
    }

    internal static JobAdmin Admin(HttpContext context) => context.RequestServices.GetRequiredService<JobAdmin>();
}
