using Jobs.Sdk;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Samples.AotWorker.Jobs;

/// <summary>A recurring job, pushed by the scheduler (exactly once per fire time across all worker processes).</summary>
/// <param name="Audience">Who receives the digest.</param>
[Job("nightly-digest")]
public partial record NightlyDigest(string Audience);

/// <summary>Handles <see cref="NightlyDigest"/>.</summary>
public sealed partial class NightlyDigestHandler(ILogger<NightlyDigestHandler> logger) : IJobHandler<NightlyDigest>
{
    /// <inheritdoc />
    public Task HandleAsync(NightlyDigest job, JobContext context, CancellationToken cancellationToken)
    {
        LogDigest(logger, job.Audience, context.ScheduledAt, context.NextScheduledAt);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Digest for {Audience} (scheduled {ScheduledAt}, next {NextScheduledAt})")]
    private static partial void LogDigest(ILogger logger, string audience, DateTimeOffset? scheduledAt, DateTimeOffset? nextScheduledAt);
}
