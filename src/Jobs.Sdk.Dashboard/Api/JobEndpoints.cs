using System.Globalization;
using Jobs.Sdk.Dashboard.Access;
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

    /// <summary><c>POST api/jobs/{action}</c> with <c>{ ids: [...] }</c> or <c>{ filter: {...} }</c>, <c>reason</c>, and <c>priority</c> for <c>priority</c>.</summary>
    public static async Task ActAsync(HttpContext context)
    {
        var action = context.Request.RouteValues["action"] as string;
        var request = await HttpJson.ReadAsync(context, DashboardJsonContext.Default.JobActionRequest);
        if (request is null)
        {
            return;
        }

        var admin = Admin(context);
        var ct = context.RequestAborted;
        var selection = Selection(request, request.Filter is null ? default : await AskedAtAsync(admin, ct));
        var audit = new AuditInfo(DashboardAccess.Actor(context), string.IsNullOrWhiteSpace(request.Reason) ? null : request.Reason);
        int changed;
        switch (action)
        {
            case "retry":
                changed = await admin.RetryAsync(selection, request.FromFirstAttempt, audit, ct);
                break;
            case "cancel":
                changed = await admin.CancelAsync(selection, audit, ct);
                break;
            case "delete":
                changed = await admin.DeleteAsync(selection, audit, ct);
                break;
            case "run-now":
                changed = await admin.RunNowAsync(selection, audit, ct);
                break;
            case "priority":
                changed = await admin.SetPriorityAsync(selection, DashboardMapping.ParsePriority(request.Priority), audit, ct);
                break;
            default:
                await HttpJson.ErrorAsync(context, StatusCodes.Status404NotFound, $"Unknown job action '{action}': use retry, cancel, delete, run-now or priority.");
                return;
        }

        await HttpJson.WriteAsync(context, new ActionResponse(changed), DashboardJsonContext.Default.ActionResponse);
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
