using Jobs.Sdk.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Sdk.Tests.Scheduling;

/// <summary>Configuration: entry keys, duplicates, registration through <c>AddSchedule</c>.</summary>
public sealed class JobScheduleTests
{
    [Fact]
    public void Default_key_is_job_name_and_schedule_description_and_is_stable()
    {
        var zone = Zones.London;
        var first = new JobSchedule().Add(new Report("daily"), Schedule.Daily(3, 0, zone));
        var second = new JobSchedule().Add(new Report("other payload"), Schedule.Daily(3, 0, TimeZoneInfo.FindSystemTimeZoneById("Europe/London")));
        Assert.Equal("test.report@daily at 03:00 Europe/London", first.Entries[0].Key);
        Assert.Equal(first.Entries[0].Key, second.Entries[0].Key);
        Assert.Equal("test.report", first.Entries[0].JobName);
        Assert.Equal(ScheduleAccuracy.Latest, first.Entries[0].Accuracy);
    }

    [Fact]
    public void Duplicate_derived_keys_throw_a_clear_error()
    {
        var schedule = new JobSchedule().Add(new Report("a"), Schedule.Daily(3));
        var ex = Assert.Throws<ArgumentException>(() => schedule.Add(new Report("b"), Schedule.Daily(3)));
        Assert.Contains("test.report@daily at 03:00 UTC", ex.Message, StringComparison.Ordinal);
        Assert.Contains("key:", ex.Message, StringComparison.Ordinal);
        Assert.Single(schedule.Entries);
    }

    [Fact]
    public void Explicit_keys_tell_entries_apart_and_must_be_unique()
    {
        var schedule = new JobSchedule()
            .Add(new Report("a"), Schedule.Daily(3), key: "report-a")
            .Add(new Report("b"), Schedule.Daily(3), key: "report-b");
        Assert.Equal(["report-a", "report-b"], schedule.Entries.Select(e => e.Key));
        Assert.Throws<ArgumentException>(() => schedule.Add(new Ping(), Schedule.Hourly(), key: "report-a"));
        Assert.Throws<ArgumentException>(() => schedule.Add(new Ping(), Schedule.Hourly(), key: " "));
    }

    [Fact]
    public void Same_job_with_different_schedules_gets_different_keys()
    {
        var schedule = new JobSchedule().Add(new Ping(), Schedule.Daily(3)).Add(new Ping(), Schedule.Daily(4));
        Assert.Equal(2, schedule.Entries.Select(e => e.Key).Distinct().Count());
    }

    [Fact]
    public void A_job_that_cannot_be_serialized_is_rejected_at_configuration()
    {
        var ex = Assert.Throws<ArgumentException>(() => new JobSchedule().Add(new Unserializable(), Schedule.Daily()));
        Assert.Contains("test.unserializable", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no payload for you", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cleanup_of_processing_jobs_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new JobSchedule().AddCleanup(new CleanupOptions { ProcessingJobs = CleanupAction.Rerun }, Schedule.Daily()));
        Assert.Contains("processing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddSchedule_registers_one_scheduler_and_accumulates_entries_across_calls()
    {
        var services = new ServiceCollection();
        services.AddJobs(jobs => jobs
            .UseInMemory()
            .AddSchedule(s => s.Add(new Ping(), Schedule.Hourly()))
            .AddSchedule(s => s.AddCleanup(new CleanupOptions { CompletedJobs = CleanupAction.Remove }, Schedule.Weekly(DayOfWeek.Sunday))));
        await using var provider = services.BuildServiceProvider();

        var schedule = provider.GetRequiredService<JobSchedule>();
        Assert.Equal(["test.ping@hourly at minute 0 UTC", "jobs.cleanup@weekly on Sunday at 00:00 UTC"], schedule.Entries.Select(e => e.Key));
        var scheduler = Assert.Single(provider.GetServices<IHostedService>().OfType<JobScheduler>());
        Assert.Same(provider.GetRequiredService<JobScheduler>(), scheduler);
        Assert.True(provider.GetRequiredService<JobRegistry>().TryGet("jobs.cleanup:default", out _));
    }

    [Fact]
    public void AddSchedule_duplicate_across_calls_throws_at_configuration()
    {
        var services = new ServiceCollection();
        Assert.Throws<ArgumentException>(() => services.AddJobs(jobs => jobs
            .UseInMemory()
            .AddSchedule(s => s.Add(new Ping(), Schedule.Hourly()))
            .AddSchedule(s => s.Add(new Ping("again"), Schedule.Hourly()))));
    }

    [Fact]
    public async Task The_usage_from_the_documentation_compiles_and_validates()
    {
        var services = new ServiceCollection();
        services.AddJobs(jobs => jobs.UseInMemory().AddSchedule(s =>
        {
            s.Add(new Report("daily"), Schedule.Daily(hour: 3, minute: 0, TimeZoneInfo.FindSystemTimeZoneById("Europe/London")));
            s.Add(new Ping(), Schedule.Cron("*/5 * * * *"), accuracy: ScheduleAccuracy.All);
            s.AddCleanup(new CleanupOptions { CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(7)), FailedJobs = CleanupAction.Rerun },
                Schedule.Weekly(DayOfWeek.Sunday));
        }));
        await using var provider = services.BuildServiceProvider();
        Assert.Equal(3, provider.GetRequiredService<JobSchedule>().Entries.Count);
    }

    [Fact]
    public async Task Host_start_fails_when_the_driver_cannot_store_schedules()
    {
        var services = new ServiceCollection();
        services.AddJobs(jobs => jobs
            .UseDriver(_ => new DelegatingDriver(new InMemoryJobDriver()))
            .AddSchedule(s => s.Add(new Ping(), Schedule.Hourly())));
        await using var provider = services.BuildServiceProvider();
        var scheduler = provider.GetServices<IHostedService>().OfType<JobScheduler>().Single();
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => scheduler.StartAsync(CancellationToken.None));
        Assert.Contains("DelegatingDriver", ex.Message, StringComparison.Ordinal);
    }
}
