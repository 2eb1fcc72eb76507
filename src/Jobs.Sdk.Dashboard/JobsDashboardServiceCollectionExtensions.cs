using Jobs.Sdk.Dashboard;
using Jobs.Sdk.Dashboard.Live;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the jobs dashboard's services.</summary>
public static class JobsDashboardServiceCollectionExtensions
{
    /// <summary>
    /// Adds the services behind <c>app.MapJobsDashboard(...)</c>: options, antiforgery, authorization and the one shared
    /// live-update hub per app instance. Call it once, next to <c>AddJobs</c>.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddJobsDashboard(o => o.OperatorPolicy = "jobs-operator"); // without it: read-only
    /// </code>
    /// </example>
    public static IServiceCollection AddJobsDashboard(this IServiceCollection services, Action<JobsDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<JobsDashboardOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.LiveInterval > TimeSpan.Zero && o.ThroughputInterval > TimeSpan.Zero,
            "JobsDashboardOptions.LiveInterval and ThroughputInterval must be positive.");
        options.Validate(o => o.PageSize is >= 1 and <= 500, "JobsDashboardOptions.PageSize must be between 1 and 500.");
        services.AddAntiforgery();
        services.AddAuthorization();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DashboardSnapshotSource>();
        services.TryAddSingleton<DashboardLiveHub>();
        return services;
    }
}
