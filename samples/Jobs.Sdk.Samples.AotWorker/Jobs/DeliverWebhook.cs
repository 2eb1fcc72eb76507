using Jobs.Sdk;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Samples.AotWorker.Jobs;

/// <summary>Delivers a webhook; the simulated endpoint fails the first attempt, so the job shows retries.</summary>
/// <param name="Url">Where to deliver.</param>
/// <param name="Event">Event name.</param>
[Job("deliver-webhook", MaxAttempts = 5)]
public partial record DeliverWebhook(Uri Url, string Event);

/// <summary>Handles <see cref="DeliverWebhook"/>.</summary>
public sealed partial class DeliverWebhookHandler(ILogger<DeliverWebhookHandler> logger, WorkerStats stats) : IJobHandler<DeliverWebhook>
{
    /// <inheritdoc />
    public async Task HandleAsync(DeliverWebhook job, JobContext context, CancellationToken cancellationToken)
    {
        await Task.Yield();
        if (context.Attempt == 1)
        {
            LogRetrying(logger, job.Event, job.Url);
            throw new HttpRequestException($"{job.Url} answered 503 (simulated); the job will be retried.");
        }

        LogDelivered(logger, job.Event, job.Url, context.Attempt);
        stats.Completed(job: "deliver-webhook");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {Event} to {Url}: endpoint unavailable, retrying")]
    private static partial void LogRetrying(ILogger logger, string @event, Uri url);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {Event} delivered to {Url} on attempt {Attempt}")]
    private static partial void LogDelivered(ILogger logger, string @event, Uri url, int attempt);
}
