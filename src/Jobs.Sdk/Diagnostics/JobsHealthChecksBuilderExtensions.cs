using Jobs.Sdk;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds <see cref="JobsHealthCheck"/> to a health checks builder.</summary>
public static class JobsHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check of the job queue registered by <c>AddJobs</c>: store ready and reachable, and the worker (when
    /// <c>AddWorkers</c> registered one) alive.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddHealthChecks().AddJobsHealthCheck(tags: ["ready"]);
    /// </code>
    /// </example>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name. Default <c>"jobs"</c>.</param>
    /// <param name="failureStatus">The status reported on failure; <see langword="null"/> means <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by (for example <c>"ready"</c>).</param>
    /// <param name="configure">Adjusts <see cref="JobsHealthCheckOptions"/>.</param>
    public static IHealthChecksBuilder AddJobsHealthCheck(this IHealthChecksBuilder builder, string name = "jobs", HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null, Action<JobsHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var options = new JobsHealthCheckOptions();
        configure?.Invoke(options);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new JobsHealthCheck(
                sp.GetService<JobsRuntime>() ?? throw new InvalidOperationException(
                    "AddJobsHealthCheck needs a job queue: call services.AddJobs(...) before building the service provider."),
                options.CheckWorker ? sp.GetService<JobWorker>() : null,
                options),
            failureStatus,
            tags));
    }
}
