using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>Adds recurring jobs to <see cref="JobsBuilder"/>.</summary>
public static class JobsBuilderSchedulingExtensions
{
    /// <summary>
    /// Adds recurring jobs and runs a <see cref="JobScheduler"/> in this process (an <see cref="IHostedService"/>). May be called
    /// more than once; entries accumulate and keys must stay unique. Also registers the built-in cleanup job
    /// (<c>jobs.cleanup:&lt;queue&gt;</c>) so this process's workers can run <see cref="JobSchedule.AddCleanup"/> entries.
    /// Run it in as many processes as you like: each fire is pushed exactly once (the driver must implement
    /// <see cref="IJobScheduleStore"/>; the in-memory and PostgreSQL drivers do).
    /// </summary>
    /// <example>
    /// <code>
    /// services.AddJobs(jobs => jobs
    ///     .UseInMemory()
    ///     .AddJob&lt;Ping&gt;((ping, ctx, ct) => Task.CompletedTask)
    ///     .AddWorkers()
    ///     .AddSchedule(s => s.Add(new Ping(), Schedule.Cron("*/5 * * * *"))));
    /// </code>
    /// </example>
    /// <exception cref="ArgumentException">An entry is invalid (see <see cref="JobSchedule.Add{TJob}"/>).</exception>
    public static JobsBuilder AddSchedule(this JobsBuilder jobs, Action<JobSchedule> configure)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        ArgumentNullException.ThrowIfNull(configure);
        var schedule = Registered(jobs.Services);
        if (schedule is null)
        {
            schedule = new JobSchedule();
            jobs.Services.AddSingleton(schedule);
            jobs.Services.AddSingleton(sp => new JobScheduler(
                sp.GetRequiredService<JobsRuntime>(),
                sp.GetRequiredService<JobSchedule>(),
                sp.GetService<ILogger<JobScheduler>>()));
            jobs.Services.AddHostedService(sp => sp.GetRequiredService<JobScheduler>());
            jobs.Definitions.Add(sp => CleanupJobDefinition.Create(sp.GetRequiredService<IJobDriver>()));
        }

        configure(schedule);
        return jobs;
    }

    private static JobSchedule? Registered(IServiceCollection services)
    {
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(JobSchedule) && !descriptor.IsKeyedService && descriptor.ImplementationInstance is JobSchedule existing)
            {
                return existing;
            }
        }

        return null;
    }
}
