using System.Globalization;
using Jobs.Sdk.Dashboard.Access;
using Microsoft.AspNetCore.Http;

namespace Jobs.Sdk.Dashboard;

/// <summary>Queues (pause/resume with a reason), schedule entries (trigger, pause, resume), workers and the audit log.</summary>
internal static class CatalogEndpoints
{
    /// <summary><c>GET api/queues</c></summary>
    public static async Task QueuesAsync(HttpContext context)
    {
        var queues = await JobEndpoints.Admin(context).GetQueuesAsync(context.RequestAborted);
        IReadOnlyList<QueueDto> dto = queues.Select(DashboardMapping.ToDto).OrderBy(q => q.Name, StringComparer.Ordinal).ToArray();
        await HttpJson.WriteAsync(context, dto, DashboardJsonContext.Default.IReadOnlyListQueueDto);
    }

    /// <summary><c>POST api/queues/{name}/pause</c> and <c>/resume</c>, body <c>{ reason }</c>.</summary>
    public static async Task QueueActAsync(HttpContext context)
    {
        var name = context.Request.RouteValues["name"] as string ?? "";
        var action = context.Request.RouteValues["action"] as string;
        var request = await HttpJson.ReadAsync(context, DashboardJsonContext.Default.ReasonRequest);
        if (request is null)
        {
            return;
        }

        var admin = JobEndpoints.Admin(context);
        var audit = Audit(context, request);
        bool changed;
        switch (action)
        {
            case "pause":
                changed = await admin.PauseQueueAsync(name, request.Reason, audit, context.RequestAborted);
                break;
            case "resume":
                changed = await admin.ResumeQueueAsync(name, audit, context.RequestAborted);
                break;
            default:
                await HttpJson.ErrorAsync(context, StatusCodes.Status404NotFound, $"Unknown queue action '{action}': use pause or resume.");
                return;
        }

        await HttpJson.WriteAsync(context, new ActionResponse(changed ? 1 : 0), DashboardJsonContext.Default.ActionResponse);
    }

    /// <summary><c>GET api/schedules</c></summary>
    public static async Task SchedulesAsync(HttpContext context)
    {
        var schedules = await JobEndpoints.Admin(context).GetSchedulesAsync(context.RequestAborted);
        IReadOnlyList<ScheduleDto> dto = schedules.Select(DashboardMapping.ToDto).ToArray();
        await HttpJson.WriteAsync(context, dto, DashboardJsonContext.Default.IReadOnlyListScheduleDto);
    }

    /// <summary><c>POST api/schedules/{key}/trigger</c>, <c>/pause</c> and <c>/resume</c>, body <c>{ reason }</c>.</summary>
    public static async Task ScheduleActAsync(HttpContext context)
    {
        var key = context.Request.RouteValues["key"] as string ?? "";
        var action = context.Request.RouteValues["action"] as string;
        var request = await HttpJson.ReadAsync(context, DashboardJsonContext.Default.ReasonRequest);
        if (request is null)
        {
            return;
        }

        var admin = JobEndpoints.Admin(context);
        var audit = Audit(context, request);
        int changed;
        switch (action)
        {
            case "trigger":
                changed = await admin.TriggerScheduleAsync(key, audit, context.RequestAborted);
                break;
            case "pause":
                changed = await admin.PauseScheduleAsync(key, audit, context.RequestAborted);
                break;
            case "resume":
                changed = await admin.ResumeScheduleAsync(key, audit, context.RequestAborted);
                break;
            default:
                await HttpJson.ErrorAsync(context, StatusCodes.Status404NotFound, $"Unknown schedule action '{action}': use trigger, pause or resume.");
                return;
        }

        await HttpJson.WriteAsync(context, new ActionResponse(changed), DashboardJsonContext.Default.ActionResponse);
    }

    /// <summary><c>GET api/workers</c></summary>
    public static async Task WorkersAsync(HttpContext context)
    {
        var workers = await JobEndpoints.Admin(context).GetWorkersAsync(context.RequestAborted);
        IReadOnlyList<WorkerDto> dto = workers.Select(DashboardMapping.ToDto).ToArray();
        await HttpJson.WriteAsync(context, dto, DashboardJsonContext.Default.IReadOnlyListWorkerDto);
    }

    /// <summary><c>GET api/audit?limit=</c> (newest first, default 100).</summary>
    public static async Task AuditAsync(HttpContext context)
    {
        var limit = int.TryParse(context.Request.Query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, 1000) : 100;
        var entries = await JobEndpoints.Admin(context).GetAuditLogAsync(limit, context.RequestAborted);
        IReadOnlyList<AuditDto> dto = entries.Select(DashboardMapping.ToDto).ToArray();
        await HttpJson.WriteAsync(context, dto, DashboardJsonContext.Default.IReadOnlyListAuditDto);
    }

    private static AuditInfo Audit(HttpContext context, ReasonRequest request)
        => new(DashboardAccess.Actor(context), string.IsNullOrWhiteSpace(request.Reason) ? null : request.Reason.Trim());
}
