using Jobs.Sdk.Samples.Dashboard.Jobs;

namespace Jobs.Sdk.Samples.Dashboard;

/// <summary>Pushes demo jobs at start (some succeed, one fails until retried, one always fails, some wait) and optionally a trickle.</summary>
internal sealed class SampleJobsSeeder(JobQueue queue, bool seed, TimeSpan every) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (seed)
        {
            for (var i = 1; i <= 12; i++)
            {
                await queue.PushSendWelcomeEmailAsync($"user{i}@example.com", i % 3 == 0 ? "welcome-pro" : "welcome", cancellationToken: stoppingToken);
            }

            await queue.PushChargeCardAsync("ORD-1042", 4_990, "EUR", cancellationToken: stoppingToken);
            await queue.PushImportFeedAsync(new Uri("https://feeds.example.com/catalog/v2.xml"), cancellationToken: stoppingToken);
            var later = new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) };
            await queue.PushSendWelcomeEmailAsync("later@example.com", "reminder", later, stoppingToken);
            await queue.PushChargeCardAsync("ORD-1043", 12_500, "USD", later, stoppingToken);
        }

        if (every <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(every);
        var n = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            n++;
            if (n % 7 == 0)
            {
                await queue.PushImportFeedAsync(new Uri($"https://feeds.example.com/partner-{n}.xml"), cancellationToken: stoppingToken);
            }
            else
            {
                await queue.PushSendWelcomeEmailAsync($"user{n}@example.com", "welcome", cancellationToken: stoppingToken);
            }
        }
    }
}
