using System.Diagnostics.Metrics;
using Jobs.Sdk;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Jobs.Sdk in a service collection.</summary>
public static class JobsServiceCollectionExtensions
{
    /// <summary>
    /// Adds a <see cref="JobQueue"/> (singleton), the configured driver, job handlers and optionally workers.
    /// </summary>
    /// <example>
    /// <code>
    /// services.AddJobs(jobs => jobs
    ///     .UseInMemory()
    ///     .AddJob&lt;SendEmail, SendEmailHandler&gt;()
    ///     .AddWorkers(o => o.Concurrency = 16));
    /// </code>
    /// </example>
    public static IServiceCollection AddJobs(this IServiceCollection services, Action<JobsBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(d => d.ServiceType == typeof(JobsBuilder)))
        {
            throw new InvalidOperationException("AddJobs was already called on this service collection; configure all jobs in one AddJobs call.");
        }

        var builder = new JobsBuilder(services);
        services.AddSingleton(builder);
        // Registered before the workers: hosted services stop in reverse order, so the workers drain first and the presence
        // service's last report includes their final outcomes (throughput).
        services.AddHostedService(sp => new JobPresenceService(sp));
        configure(builder);

        services.AddOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<JobQueueOptions>>().Value);
        services.TryAddSingleton(sp => new JobRegistry(builder.Definitions.Select(f => f(sp))));
        services.TryAddSingleton<IJobDriver>(sp => (builder.DriverFactory ?? throw new InvalidOperationException(
            "No job driver is configured. Call jobs.UseInMemory() or jobs.UsePostgres(...) inside AddJobs.")).Invoke(sp));
        services.TryAddSingleton(sp => new JobsRuntime(
            sp.GetRequiredService<IJobDriver>(),
            sp.GetRequiredService<JobRegistry>(),
            sp.GetRequiredService<JobQueueOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetServices<IJobMiddleware>(),
            sp.GetService<ILoggerFactory>(),
            // The host's meter factory (the Generic Host registers one): the meter is this host's and ends with it.
            JobsMetrics.For(sp.GetService<IMeterFactory>())));
        services.TryAddSingleton(sp =>
        {
            var runtime = sp.GetRequiredService<JobsRuntime>();
            // Every queue this process declares or a registered job type names is known up front (lookups by id search them).
            foreach (var queue in builder.Queues.Keys.Concat(runtime.Registry.Definitions.Select(d => d.Queue).OfType<string>()))
            {
                runtime.ForQueue(queue);
            }

            return new JobQueue(runtime) { AdminResolver = () => sp.GetService<JobAdmin>() };
        });
        services.TryAddSingleton(sp => sp.GetRequiredService<IJobDriver>() as IJobAdminStore ?? throw new InvalidOperationException(
            $"The job driver {sp.GetRequiredService<IJobDriver>().GetType().Name} has no admin store (IJobAdminStore); JobAdmin needs one."));
        services.TryAddSingleton(sp => new JobAdmin(sp.GetRequiredService<IJobAdminStore>(), sp.GetService<ILogger<JobAdmin>>()));
        return services;
    }
}
