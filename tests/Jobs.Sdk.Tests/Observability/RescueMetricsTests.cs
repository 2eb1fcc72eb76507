using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Tests.Observability;

/// <summary>The in-memory driver's lease rescue counts the attempts it decides as the PostgreSQL driver's does.</summary>
[Collection(ObservabilityCollection.Name)]
public sealed class RescueMetricsTests
{
    /// <summary>
    /// Three running jobs whose worker died (last attempt, attempts left, a cancel asked for) and one claimed but never
    /// started: the rescue counts one failed, one retried and one cancelled attempt, and nothing for the claim that never
    /// started (its attempt is given back).
    /// </summary>
    [Fact]
    public async Task Jobs_rescued_from_a_dead_worker_are_counted_as_failed_retried_or_cancelled()
    {
        var queueName = Obs.NewQueueName("rescue");
        using var metrics = new MetricCollector(queueName);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var driver = new InMemoryJobDriver(new InMemoryJobDriverOptions { QueueName = queueName }, time);
        var services = new ServiceCollection();
        services.AddJobs(j => j.UseDriver(_ => driver).AddJob<ObsJob>((_, _, _) => Task.CompletedTask));
        await using var provider = services.BuildServiceProvider();
        var queue = provider.GetRequiredService<JobQueue>();

        await queue.PushAsync(new ObsJob(1), new JobOptions { MaxAttempts = 1 });
        await queue.PushAsync(new ObsJob(2), new JobOptions { MaxAttempts = 3 });
        var cancel = await queue.PushAsync(new ObsJob(3), new JobOptions { MaxAttempts = 3 });
        await queue.PushAsync(new ObsJob(4), new JobOptions { MaxAttempts = 3 });
        Assert.Equal(4, (await driver.ClaimAsync(new JobClaimRequest("dead-worker", 4, TimeSpan.FromMinutes(1)) { StartingNow = 3 }, default)).Count);
        Assert.True(await driver.CancelAsync(cancel, default));
        time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(4, await driver.RescueExpiredLeasesAsync(default));

        var counted = metrics.Points.Where(p => p.Instrument != JobsDiagnostics.PushedInstrument)
            .Select(p => (p.Instrument, p.Value, p.Tag("error.type"))).OrderBy(p => p.Instrument).ToArray();
        Assert.Equal(
            [("jobs.cancelled", 1.0, null), ("jobs.failed", 1.0, "Jobs.Sdk.LeaseExpired"), ("jobs.retried", 1.0, "Jobs.Sdk.LeaseExpired")],
            counted);
    }
}
