using System.Diagnostics;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <summary>
/// Counts the attempts a lease rescue decided (their worker died, or stopped renewing, before it reported an outcome) in
/// the outcome counters, as a worker counts the attempts it decides: a job failed for good in <c>jobs.failed</c>, one
/// queued again in <c>jobs.retried</c> (both with <c>error.type</c> <see cref="LeaseExpiredErrorType"/>, the type of the
/// error the store records), a running job a user cancelled in <c>jobs.cancelled</c>. Drivers call it after a rescue pass.
/// </summary>
internal static class RescueTelemetry
{
    /// <summary>The type of the error a rescue records for an attempt whose lease expired.</summary>
    internal const string LeaseExpiredErrorType = "Jobs.Sdk.LeaseExpired";

    /// <summary>
    /// <paramref name="count"/> started attempts of <paramref name="jobName"/> that a rescue moved to <paramref name="next"/>
    /// (<see cref="JobState.Failed"/>, <see cref="JobState.Retrying"/> or <see cref="JobState.Cancelled"/>; others count nothing),
    /// in the metrics of <paramref name="driver"/>'s runtime (<see cref="JobsInstrumentation.MetricsOf"/>).
    /// </summary>
    public static void Count(IJobDriver driver, string queueName, string jobName, JobState next, long count,
        IReadOnlyList<KeyValuePair<string, object?>>? storeTags)
    {
        var metrics = JobsInstrumentation.MetricsOf(driver);
        var counter = next switch
        {
            JobState.Failed => metrics.Failed,
            JobState.Retrying => metrics.Retried,
            JobState.Cancelled => metrics.Cancelled,
            _ => null,
        };
        if (!JobsInstrumentation.Enabled || count <= 0 || counter is not { Enabled: true })
        {
            return;
        }

        try
        {
            var tags = new TagList
            {
                { JobsInstrumentation.JobNameTag, jobName },
                { JobsInstrumentation.DestinationTag, queueName },
            };
            JobsInstrumentation.AddStoreTags(ref tags, storeTags);
            if (next != JobState.Cancelled)
            {
                tags.Add(JobsInstrumentation.ErrorTypeTag, LeaseExpiredErrorType);
            }

            counter.Add(count, tags);
        }
        catch (Exception ex) when (JobsInstrumentation.IsListenerFault(ex))
        {
        }
    }
}
