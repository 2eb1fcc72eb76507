using System.Globalization;
using Jobs.Sdk.Dashboard.Access;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Jobs.Sdk.Dashboard;

/// <summary>Queues (pause/resume with a reason), schedule entries (trigger, pause, resume), workers and the audit log.</summary>
internal static class CatalogEndpoints
{
    /// <summary>
    /// <c>GET api/queues?cursor=&amp;limit=</c>: a page of the queues by name (<see cref="JobAdmin.GetQueuesAsync(int, string?, CancellationToken)"/>;
    /// <c>limit</c> as the jobs list's, <see cref="JobsDashboardOptions.PageSize"/> by default) and the number of queues.
    /// </summary>
    public static async Task QueuesAsync(HttpContext context)
    {
        var page = await JobEndpoints.Admin(context).GetQueuesAsync(PageLimit(context), context.Request.Query["cursor"], context.RequestAborted);
        var dto = new QueuePageDto([.. page.Items.Select(DashboardMapping.ToDto)], page.NextCursor, page.Total);
        await HttpJson.WriteAsync(context, dto, DashboardJsonContext.Default.QueuePageDto);
    }

    /// <summary><c>POST api/queues/{name}/pause</c> and <c>/resume</c>, body <c>{ reason }</c>.</summary>
    public static Task QueueActAsync(HttpContext context) => ActAsync(context, "name", "use pause or resume", (admin, name, action, request, audit, ct) => action switch
    {
        "pause" => Count(admin.PauseQueueAsync(name, request.Reason, audit, ct)),
        "resume" => Count(admin.ResumeQueueAsync(name, audit, ct)),
        _ => null,
    });

    /// <summary>
    /// <c>GET api/schedules?cursor=&amp;limit=</c>: a page of the entries (<see cref="SchedulePage.Of"/>; <c>limit</c> as the
    /// jobs list's, <see cref="JobsDashboardOptions.PageSize"/> by default), each with the pauses an edited schedule left
    /// behind on its side, the number of entries, and every entry of such a pause whatever its page (a note above the list).
    /// </summary>
    public static async Task SchedulesAsync(HttpContext context)
    {
        var limit = PageLimit(context);
        var schedules = await JobEndpoints.Admin(context).GetSchedulesAsync(context.RequestAborted);
        var (items, next) = SchedulePage.Of(schedules, context.Request.Query["cursor"], limit);
        var left = SchedulePauseLeftBehind.Find(schedules);
        var leftEntries = left.SelectMany(p => new[] { p.Paused, p.Live }).Distinct(ReferenceEqualityComparer.Instance).Cast<ScheduleInfo>();
        var dto = new SchedulePageDto([.. items.Select(s => DashboardMapping.ToDto(s, left))], next, schedules.Count,
            [.. leftEntries.Select(s => DashboardMapping.ToDto(s, left))]);
        await HttpJson.WriteAsync(context, dto, DashboardJsonContext.Default.SchedulePageDto);
    }

    /// <summary>The query's <c>limit</c> (1 to <see cref="JobQuery.MaxLimit"/>), or <see cref="JobsDashboardOptions.PageSize"/> without one.</summary>
    private static int PageLimit(HttpContext context)
        => int.TryParse(context.Request.Query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var l)
            ? Math.Clamp(l, 1, JobQuery.MaxLimit)
            : context.RequestServices.GetRequiredService<IOptions<JobsDashboardOptions>>().Value.PageSize;

    /// <summary>
    /// <c>POST api/schedules/{key}/trigger</c>, <c>/pause</c> and <c>/resume</c>, body <c>{ reason }</c>, with <c>?queue=</c> the
    /// entry's queue (the page sends its row's: a key may be published in several queues, one entry each). 400 when no queue is
    /// given and the key is published in several; 404 when no entry has the key in that queue, or a trigger's entry is no
    /// running scheduler's any more (<see cref="ScheduleEntryNotFoundException"/>); 409 for a trigger of a paused entry.
    /// </summary>
    public static async Task ScheduleActAsync(HttpContext context)
    {
        var queues = context.Request.Query["queue"];
        if (queues.Count > 1 || (queues.Count == 1 && string.IsNullOrEmpty(queues[0])))
        {
            await HttpJson.ErrorAsync(context, StatusCodes.Status400BadRequest,
                "The query's 'queue' names the schedule entry's queue once, not empty: nothing was done. Reload the schedules page.");
            return;
        }

        var queue = queues.Count == 1 ? queues[0] : null;
        try
        {
            await ActAsync(context, "key", "use trigger, pause or resume", (admin, key, action, _, audit, ct) => action switch
            {
                "trigger" => admin.TriggerScheduleAsync(queue, key, audit, ct),
                "pause" => admin.PauseScheduleAsync(queue, key, audit, ct),
                "resume" => admin.ResumeScheduleAsync(queue, key, audit, ct),
                _ => null,
            });
        }
        catch (ScheduleEntryNotFoundException e)
        {
            await HttpJson.ErrorAsync(context, StatusCodes.Status404NotFound, await MissingEntryAsync(JobEndpoints.Admin(context), e, context.RequestAborted));
        }
        catch (ScheduleEntryPausedException e)
        {
            await HttpJson.ErrorAsync(context, StatusCodes.Status409Conflict, e.Message);
        }
    }

    /// <summary>
    /// Why a schedule action did nothing when the entry is not there: the page showed an entry removed since (retention deletes
    /// one that is not paused 7 days after a scheduler last published it, and an edited schedule publishes a new key), or, for
    /// a trigger, an entry no running scheduler publishes any more (the store's message, which names the entries there are).
    /// </summary>
    private static async Task<string> MissingEntryAsync(JobAdmin admin, ScheduleEntryNotFoundException missing, CancellationToken cancellationToken)
        => (await admin.GetSchedulesAsync(cancellationToken)).Any(s => s.EntryKey == missing.EntryKey && (missing.QueueName is null || s.QueueName == missing.QueueName))
            ? missing.Message + " Reload the schedules page to see the entries there are."
            : $"Schedule entry '{missing.EntryKey}' is not stored{(missing.QueueName is null ? "" : $" in queue '{missing.QueueName}'")}: nothing was triggered, " +
              "paused or resumed. It was removed since the page showed it (an entry no scheduler publishes any more is deleted 7 days after it " +
              "was last published, unless paused; an edited schedule publishes a new key), or never existed. Reload the schedules page to see " +
              "the entries there are.";

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

    /// <summary>
    /// One operator action on the item named by route value <paramref name="routeKey"/>: reads the <c>{ reason }</c> body,
    /// runs the action the route names (<paramref name="act"/> returns null for an unknown one: 404) with the caller's
    /// audit information, and answers how many items changed.
    /// </summary>
    private static async Task ActAsync(HttpContext context, string routeKey, string knownActions,
        Func<JobAdmin, string, string?, ReasonRequest, AuditInfo, CancellationToken, Task<int>?> act)
    {
        var action = context.Request.RouteValues["action"] as string;
        if (Target(context, routeKey) is not { } target)
        {
            await HttpJson.ErrorAsync(context, StatusCodes.Status400BadRequest,
                $"The query's '{routeKey}' names only '.' or '..' (which cannot be a path segment), on the path segment '{DotNamePlaceholder}'; put any other name in the path.");
            return;
        }


        var request = await HttpJson.ReadAsync(context, DashboardJsonContext.Default.ReasonRequest);
        if (request is null)
        {
            return;
        }

        if (act(JobEndpoints.Admin(context), target, action, request, Audit(context, request), context.RequestAborted) is not { } acting)
        {
            await HttpJson.ErrorAsync(context, StatusCodes.Status404NotFound, $"Unknown action '{action}': {knownActions}.");
            return;
        }

        var changed = await acting;
        await HttpJson.WriteAsync(context, new ActionResponse(changed), DashboardJsonContext.Default.ActionResponse);
    }

    /// <summary>The path segment that stands for a name given in the query: "." or "..", which cannot be a path segment.</summary>
    private const string DotNamePlaceholder = "_";

    /// <summary>
    /// The item's name: the path segment (<see cref="RouteSegment"/>), or, for "." and "..", the query parameter named after
    /// <paramref name="routeKey"/> on the segment <see cref="DotNamePlaceholder"/>. Browsers and servers remove a segment
    /// of dots only as a relative step, so those two names cannot be in the path; every other name keeps its path (queue
    /// "_" is <c>_/pause</c> with no query). <see langword="null"/> for a query given otherwise: it would act on another item.
    /// </summary>
    private static string? Target(HttpContext context, string routeKey)
    {
        if (!context.Request.Query.TryGetValue(routeKey, out var named))
        {
            return RouteSegment(context, routeKey);
        }

        return named.Count == 1 && named[0] is "." or ".." && context.Request.RouteValues[routeKey] as string == DotNamePlaceholder ? named[0] : null;
    }

    /// <summary>
    /// The name in route value <paramref name="routeKey"/> as the page sent it. Servers decode the path before routing but
    /// keep <c>%2F</c> encoded (a decoded '/' would change the route), so the route value of queue <c>tenant/acme</c> is
    /// <c>tenant%2Facme</c> — the name of another queue, which the action would then pause. When the value holds a
    /// <c>%2F</c>, the raw request target tells the two apart: the same path segment, decoded whole.
    /// </summary>
    private static string RouteSegment(HttpContext context, string routeKey)
    {
        var value = context.Request.RouteValues[routeKey] as string ?? "";
        if (!value.Contains("%2F", StringComparison.OrdinalIgnoreCase)
            || context.Features.Get<IHttpRequestFeature>()?.RawTarget is not { Length: > 0 } raw)
        {
            return value;
        }

        // {name}/{action} end the route: the name is the raw path's second-to-last segment.
        var path = raw.Split('?', 2)[0].TrimEnd('/');
        var segments = path.Split('/');
        if (segments.Length < 2)
        {
            return value;
        }

        var segment = segments[^2];
        // The same segment, decoded the server's way (all but %2F), must be the route value; else keep the route value.
        var serverDecoded = Uri.UnescapeDataString(segment.Replace("%2F", "%252F", StringComparison.Ordinal).Replace("%2f", "%252f", StringComparison.Ordinal));
        return serverDecoded == value ? Uri.UnescapeDataString(segment) : value;
    }

    private static async Task<int> Count(Task<bool> changed) => await changed.ConfigureAwait(false) ? 1 : 0;

    private static AuditInfo Audit(HttpContext context, ReasonRequest request)
        => new(DashboardAccess.Actor(context), string.IsNullOrWhiteSpace(request.Reason) ? null : request.Reason.Trim());
}
