using Jobs.Sdk.Dashboard.Access;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Jobs.Sdk.Dashboard;

/// <summary>
/// <c>GET api/session</c>: who the page is talking to — the user, whether they may act (and why not), whether the dashboard is in
/// its local-only default, whether the server it reads is read-only, and the antiforgery token the page sends (as a header)
/// with every action.
/// </summary>
internal static class SessionEndpoint
{
    public static async Task HandleAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<JobsDashboardOptions>>().Value;
        var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        var antiforgeryOptions = context.RequestServices.GetRequiredService<IOptions<AntiforgeryOptions>>().Value;
        var (canAct, reason) = await DashboardAccess.CanActAsync(context);
        var tokens = antiforgery.GetAndStoreTokens(context);
        var user = context.User.Identity?.IsAuthenticated == true ? context.User.Identity.Name : null;
        var session = new SessionResponse(
            options.Title, user, canAct, reason, LocalOnly: !await DashboardAccess.IsProtectedByAppAsync(context),
            antiforgeryOptions.HeaderName ?? "RequestVerificationToken", tokens.RequestToken,
            (int)Math.Max(250, options.LiveInterval.TotalMilliseconds), options.PageSize, await ServerReadOnlyAsync(context));
        await HttpJson.WriteAsync(context, session, DashboardJsonContext.Default.SessionResponse);
    }

    /// <summary>
    /// Why the server refuses writes (<see cref="JobAdmin.GetReadOnlyReasonAsync"/>), asked once per page load so a page
    /// opened on a read-only server says so at once. A store that cannot be asked (down, restarting) must not keep the
    /// page from loading: null then, and the live stream reports the store as unreachable and sends the flag when it answers.
    /// </summary>
    private static async Task<string?> ServerReadOnlyAsync(HttpContext context)
    {
        try
        {
            return await JobEndpoints.Admin(context).GetReadOnlyReasonAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            return null;
        }
    }
}
