using System.ComponentModel;

namespace Jobs.Sdk.Infrastructure;

/// <summary>Registration helpers called by generated <c>AddGeneratedJobs</c> methods; not meant for application code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class JobRegistrationServices
{
    /// <summary>Whether a handler is already registered on <paramref name="builder"/> for <paramref name="jobName"/>.</summary>
    /// <param name="builder">The jobs builder.</param>
    /// <param name="jobName">The job name.</param>
    /// <returns><see langword="true"/> when a handler is registered for the name.</returns>
    public static bool IsRegistered(JobsBuilder builder, string jobName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(jobName);
        return builder.RegisteredJobs.ContainsKey(jobName);
    }

    /// <summary>
    /// Whether <typeparamref name="TJob"/> is already registered on <paramref name="builder"/> (generated
    /// <c>AddGeneratedJobs</c> methods skip it then).
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <param name="builder">The jobs builder.</param>
    /// <returns><see langword="true"/> when a handler is registered for <typeparamref name="TJob"/>.</returns>
    /// <exception cref="InvalidOperationException">The job's name is registered for another job type (two assemblies declare the same job name); the message names both types.</exception>
    public static bool IsRegistered<TJob>(JobsBuilder builder) where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.RegisteredElsewhere<TJob>() is { } clash)
        {
            throw clash;
        }

        return builder.RegisteredJobs.ContainsKey(TJob.JobName);
    }
}
