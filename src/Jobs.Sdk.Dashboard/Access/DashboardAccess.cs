using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Jobs.Sdk.Dashboard.Access;

/// <summary>
/// Who may see and who may act. Reading: the app's own authorization (<c>RequireAuthorization</c> on the dashboard, or a
/// fallback policy) when ASP.NET Core enforces it (not with <c>AllowAnonymous</c> on the endpoint), else local requests only. Acting: additionally the operator policy, a POST and a
/// valid antiforgery token.
/// </summary>
internal static class DashboardAccess
{
    /// <summary>Wraps a read endpoint: 403 for a remote request when the app's authorization does not protect the dashboard.</summary>
    public static RequestDelegate Read(RequestDelegate next) => async context =>
    {
        DashboardHeaders.Apply(context.Response);
        if (await ReadDeniedReasonAsync(context) is { } denied)
        {
            await WriteDeniedAsync(context, StatusCodes.Status403Forbidden, denied);
            return;
        }

        await next(context);
    };

    /// <summary>Wraps a mutating endpoint: read rules, then the operator policy (401/403), then antiforgery (400).</summary>
    public static RequestDelegate Act(RequestDelegate next) => async context =>
    {
        DashboardHeaders.Apply(context.Response);
        if (await ReadDeniedReasonAsync(context) is { } denied)
        {
            await WriteDeniedAsync(context, StatusCodes.Status403Forbidden, denied);
            return;
        }

        var (allowed, reason) = await CanActAsync(context);
        if (!allowed)
        {
            var status = context.User.Identity?.IsAuthenticated == true || OperatorPolicy(context) is null
                ? StatusCodes.Status403Forbidden
                : StatusCodes.Status401Unauthorized;
            await WriteDeniedAsync(context, status, reason!);
            return;
        }

        try
        {
            await context.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context);
        }
        catch (AntiforgeryValidationException)
        {
            await WriteDeniedAsync(context, StatusCodes.Status400BadRequest,
                "Missing or invalid antiforgery token: reload the dashboard page and try again.");
            return;
        }

        await next(context);
    };

    public const string LocalOnlyMessage =
        "The jobs dashboard serves only local requests until the app protects it: call .RequireAuthorization(\"your-policy\") on MapJobsDashboard(...).";

    public const string AllowAnonymousMessage =
        "The jobs dashboard serves only local requests: its endpoints carry AllowAnonymous (.AllowAnonymous() or [AllowAnonymous] " +
        "on MapJobsDashboard(...), a group around it or one of its endpoints), which makes ASP.NET Core skip every authorization " +
        "policy on them, RequireAuthorization(...) and the fallback policy included. Remove AllowAnonymous from the dashboard " +
        "and keep .RequireAuthorization(\"your-policy\").";

    /// <summary>True when the app's authorization protects the dashboard (so remote requests may be served).</summary>
    public static async ValueTask<bool> IsProtectedByAppAsync(HttpContext context) => await UnprotectedReasonAsync(context) is null;

    /// <summary>
    /// Why ASP.NET Core's authorization middleware does not enforce any policy on this endpoint, or null when it does: the
    /// endpoint's <c>[Authorize]</c> data (<c>RequireAuthorization</c>), else the fallback policy of the app's policy provider
    /// (the one the middleware asks) — and neither when the endpoint also carries <c>AllowAnonymous</c>, wherever it came from
    /// (the middleware then skips authorization whatever the order).
    /// </summary>
    private static async ValueTask<string?> UnprotectedReasonAsync(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<IAllowAnonymous>() is not null)
        {
            return AllowAnonymousMessage;
        }

        if (metadata?.GetMetadata<IAuthorizeData>() is not null)
        {
            return null;
        }

        var policies = context.RequestServices.GetService<IAuthorizationPolicyProvider>();
        return policies is not null && await policies.GetFallbackPolicyAsync() is not null ? null : LocalOnlyMessage;
    }

    /// <summary>Why a read is refused (null: served): a remote request to a dashboard the app's authorization does not protect.</summary>
    private static async ValueTask<string?> ReadDeniedReasonAsync(HttpContext context)
        => await UnprotectedReasonAsync(context) is { } reason && !IsLocal(context) ? reason : null;

    /// <summary>
    /// True for a request from this machine, made to this machine: a loopback remote address (a missing address is not local),
    /// a <c>Host</c> that names this machine (<c>localhost</c>, <c>*.localhost</c>, a loopback address: a page of another site
    /// whose name was rebound to 127.0.0.1 is not local), and no forwarding header (a reverse proxy on this machine relays
    /// remote clients from a loopback address).
    /// </summary>
    public static bool IsLocal(HttpContext context)
    {
        var request = context.Request;
        return context.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote)
            && IsLoopbackHost(request.Host.Host)
            && !request.Headers.ContainsKey("X-Forwarded-For") && !request.Headers.ContainsKey("Forwarded")
            && !request.Headers.ContainsKey("X-Real-IP");
    }

    private static bool IsLoopbackHost(string host)
    {
        if (host.Length == 0)
        {
            return false;
        }

        host = host.TrimEnd('.');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }

    public static string? OperatorPolicy(HttpContext context)
        => context.RequestServices.GetRequiredService<IOptions<JobsDashboardOptions>>().Value.OperatorPolicy;

    /// <summary>Whether the user satisfies the operator policy; the reason when not.</summary>
    public static async Task<(bool Allowed, string? Reason)> CanActAsync(HttpContext context)
    {
        var policy = OperatorPolicy(context);
        if (policy is null)
        {
            return (false, "The dashboard is read-only: set JobsDashboardOptions.OperatorPolicy in AddJobsDashboard(...) to let operators act.");
        }

        var authorization = context.RequestServices.GetRequiredService<IAuthorizationService>();
        var result = await authorization.AuthorizeAsync(context.User, context, policy);
        return result.Succeeded
            ? (true, null)
            : (false, $"You need the '{policy}' policy to act on jobs; you can still look.");
    }

    /// <summary>The actor written to the audit log: the user's name, else who and where for an anonymous local user; capped at <see cref="AuditInfo.MaxActorLength"/>.</summary>
    public static string Actor(HttpContext context)
    {
        var name = context.User.Identity?.IsAuthenticated == true ? context.User.Identity.Name : null;
        return Capped(string.IsNullOrWhiteSpace(name) ? $"anonymous@{context.Connection.RemoteIpAddress}" : name);
    }

    /// <summary>
    /// The first <see cref="AuditInfo.MaxActorLength"/> characters of <paramref name="actor"/> (never half a surrogate
    /// pair): the sign-in name is not the operator's to shorten, and <see cref="JobAdmin"/> refuses a longer actor.
    /// </summary>
    private static string Capped(string actor)
    {
        if (actor.Length <= AuditInfo.MaxActorLength)
        {
            return actor;
        }

        var length = char.IsHighSurrogate(actor[AuditInfo.MaxActorLength - 1]) ? AuditInfo.MaxActorLength - 1 : AuditInfo.MaxActorLength;
        return actor[..length];
    }

    // Like every API answer, not stored by browsers or proxies (no-store).
    private static Task WriteDeniedAsync(HttpContext context, int status, string message)
        => HttpJson.ErrorAsync(context, status, message);
}
