using Jobs.Sdk;
using Jobs.Sdk.Dashboard;
using Jobs.Sdk.Dashboard.Assets;
using Jobs.Sdk.Dashboard.Live;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static Jobs.Sdk.Dashboard.Access.DashboardAccess;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Mounts the jobs dashboard in an ASP.NET Core app.</summary>
public static class JobsDashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the jobs dashboard (page, JSON API and live events) under <paramref name="pattern"/>.
    /// <para>
    /// Safe by default: until you protect it with standard ASP.NET Core authorization on the returned builder
    /// (<c>.RequireAuthorization("jobs-viewer")</c>) or a fallback policy, it serves only local (loopback) requests and says
    /// so on the page; <c>AllowAnonymous</c> on it (or on a group around it) switches that authorization off, so it stays
    /// local-only then. Actions (retry, cancel, delete, run now, pause, trigger) additionally need
    /// <see cref="JobsDashboardOptions.OperatorPolicy"/> (without it the dashboard is read-only), are POSTs checked by
    /// antiforgery, and are written to the audit log with the user's name.
    /// </para>
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="pattern">Where to mount it, e.g. <c>/jobs</c>.</param>
    /// <returns>The endpoints' convention builder: add authorization, rate limiting, CORS, host filters, … to it.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddJobsDashboard(o => o.OperatorPolicy = "jobs-operator");
    /// app.MapJobsDashboard("/jobs").RequireAuthorization("jobs-viewer");
    /// </code>
    /// </example>
    public static RouteGroupBuilder MapJobsDashboard(this IEndpointRouteBuilder endpoints, string pattern = "/jobs")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        if (endpoints.ServiceProvider.GetService<DashboardLiveHub>() is null)
        {
            throw new InvalidOperationException(
                "The jobs dashboard's services are missing: call builder.Services.AddJobsDashboard(...) before app.MapJobsDashboard(...).");
        }

        if (endpoints.ServiceProvider.GetService<JobAdmin>() is null)
        {
            throw new InvalidOperationException(
                "The jobs dashboard needs JobAdmin: call builder.Services.AddJobs(jobs => jobs.UsePostgres(...) or UseInMemory()) before app.MapJobsDashboard(...).");
        }

        var group = endpoints.MapGroup(pattern);
        group.ExcludeFromDescription();

        group.MapGet("/", Read(DashboardAssets.ServeIndexAsync)).WithDisplayName("Jobs dashboard: page");
        group.MapGet("/assets/{file}", Read(DashboardAssets.ServeFileAsync)).WithDisplayName("Jobs dashboard: assets");
        group.MapGet("/api/session", Read(SessionEndpoint.HandleAsync)).WithDisplayName("Jobs dashboard: session");
        group.MapGet("/api/events", ServerSentEventsEndpoint.Endpoint).WithDisplayName("Jobs dashboard: live events");

        group.MapGet("/api/jobs", Read(HttpJson.BadRequestOnArgumentError(JobEndpoints.ListAsync))).WithDisplayName("Jobs dashboard: jobs");
        group.MapGet("/api/jobs/{id}", Read(JobEndpoints.GetAsync)).WithDisplayName("Jobs dashboard: job");
        // A read: it counts what an action would change (its body is the action's selection), and changes nothing.
        group.MapPost("/api/jobs/{action}/preview", Read(HttpJson.BadRequestOnArgumentError(JobEndpoints.PreviewAsync))).WithDisplayName("Jobs dashboard: job action preview");
        group.MapPost("/api/jobs/{action}", Act(HttpJson.BadRequestOnArgumentError(JobEndpoints.ActAsync))).WithDisplayName("Jobs dashboard: job action");

        group.MapGet("/api/queues", Read(HttpJson.BadRequestOnArgumentError(CatalogEndpoints.QueuesAsync))).WithDisplayName("Jobs dashboard: queues");
        group.MapPost("/api/queues/{name}/{action}", Act(HttpJson.BadRequestOnArgumentError(CatalogEndpoints.QueueActAsync))).WithDisplayName("Jobs dashboard: queue action");

        group.MapGet("/api/schedules", Read(HttpJson.BadRequestOnArgumentError(CatalogEndpoints.SchedulesAsync))).WithDisplayName("Jobs dashboard: schedules");
        group.MapPost("/api/schedules/{key}/{action}", Act(HttpJson.BadRequestOnArgumentError(CatalogEndpoints.ScheduleActAsync))).WithDisplayName("Jobs dashboard: schedule action");

        group.MapGet("/api/workers", Read(CatalogEndpoints.WorkersAsync)).WithDisplayName("Jobs dashboard: workers");
        group.MapGet("/api/audit", Read(CatalogEndpoints.AuditAsync)).WithDisplayName("Jobs dashboard: audit log");
        return group;
    }
}
