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
        return builder.RegisteredNames.Contains(jobName);
    }
}
