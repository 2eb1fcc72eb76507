using Jobs.Sdk;

namespace Jobs.Sdk.Samples.Dashboard.Jobs;

/// <summary>Always succeeds.</summary>
/// <param name="To">The recipient.</param>
/// <param name="Template">The e-mail template.</param>
[Job("send-welcome-email")]
public partial record SendWelcomeEmail(string To, string Template);

/// <summary>Handles <see cref="SendWelcomeEmail"/>.</summary>
public sealed class SendWelcomeEmailHandler : IJobHandler<SendWelcomeEmail>
{
    /// <inheritdoc />
    public Task HandleAsync(SendWelcomeEmail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Fails its first attempt (the payment provider "times out") and succeeds when retried: retry it from the dashboard and watch it
/// complete. One attempt is allowed, so the first failure is final until an operator retries.
/// </summary>
/// <param name="OrderId">The order.</param>
/// <param name="AmountCents">The amount, in cents.</param>
/// <param name="Currency">ISO currency code.</param>
[Job("charge-card", MaxAttempts = 1)]
public partial record ChargeCard(string OrderId, long AmountCents, string Currency);

/// <summary>Handles <see cref="ChargeCard"/>.</summary>
public sealed class ChargeCardHandler : IJobHandler<ChargeCard>
{
    /// <inheritdoc />
    public Task HandleAsync(ChargeCard job, JobContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Attempt == 1)
        {
            throw new TimeoutException($"Payment provider did not answer within 30 s for order {job.OrderId} (simulated on the first attempt).");
        }

        return Task.CompletedTask;
    }
}

/// <summary>Always fails: the feed does not exist.</summary>
/// <param name="FeedUrl">The feed.</param>
[Job("import-feed", MaxAttempts = 1)]
public partial record ImportFeed(Uri FeedUrl);

/// <summary>Handles <see cref="ImportFeed"/>.</summary>
public sealed class ImportFeedHandler : IJobHandler<ImportFeed>
{
    /// <inheritdoc />
    public Task HandleAsync(ImportFeed job, JobContext context, CancellationToken cancellationToken)
        => throw new HttpRequestException($"GET {job.FeedUrl} answered 404 Not Found.");
}

/// <summary>A recurring job (see the schedule in <see cref="DashboardSampleApp"/>).</summary>
/// <param name="Team">Who gets the report.</param>
[Job("nightly-report")]
public partial record NightlyReport(string Team);

/// <summary>Handles <see cref="NightlyReport"/>.</summary>
public sealed class NightlyReportHandler : IJobHandler<NightlyReport>
{
    /// <inheritdoc />
    public Task HandleAsync(NightlyReport job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
