using System.Diagnostics;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Tests.Observability;

[Collection(ObservabilityCollection.Name)]
public sealed class ScheduledPushTests
{
    [Fact]
    public async Task A_scheduled_push_makes_a_producer_span_counts_the_job_and_stores_the_trace_context_with_the_schedule_headers()
    {
        var queueName = Obs.NewQueueName("scheduled");
        using var traces = new ActivityCollector(queueName);
        using var metrics = new MetricCollector(queueName);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 30, TimeSpan.Zero));
        var driver = new InMemoryJobDriver(new InMemoryJobDriverOptions { QueueName = queueName }, time);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddJobs(j => j
            .UseDriver(_ => driver)
            .AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask)
            .AddSchedule(s => s.Add(new ObsJob(1), Schedule.EveryMinute(), key: "obs-every-minute")));
        await using var provider = services.BuildServiceProvider();
        var scheduler = provider.GetRequiredService<JobScheduler>();
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fired = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        scheduler.Waiting += (_, _, _) => waiting.TrySetResult();
        scheduler.FireHandled += (_, _, pushed) => fired.TrySetResult(pushed);

        await scheduler.StartAsync(CancellationToken.None);
        try
        {
            await waiting.Task.WaitAsync(Obs.Timeout);
            time.Advance(TimeSpan.FromMinutes(1));
            Assert.True(await fired.Task.WaitAsync(Obs.Timeout));
        }
        finally
        {
            await scheduler.StopAsync(CancellationToken.None).WaitAsync(Obs.Timeout);
        }

        var producer = Assert.Single(traces.Spans, s => s.Kind == ActivityKind.Producer);
        Assert.Equal("send obs.job", producer.DisplayName);
        Assert.Equal(1, metrics.Sum(JobsDiagnostics.PushedInstrument));

        var claimed = Assert.Single(await driver.ClaimAsync(new JobClaimRequest("probe", 10, TimeSpan.FromMinutes(1)), CancellationToken.None));
        Assert.NotNull(claimed.Headers);
        Assert.Equal(producer.Id, claimed.Headers[JobHeaders.TraceParent]);
        Assert.Equal("obs-every-minute", claimed.Headers[JobHeaders.ScheduleEntry]);
        Assert.True(claimed.Headers.ContainsKey(JobHeaders.ScheduledAt));
    }
}
