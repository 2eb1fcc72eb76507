using Jobs.Sdk;
using Jobs.Sdk.Postgres;
using Microsoft.Extensions.DependencyInjection;

// README.md's code, compiled (ReadmeCodeBlockTests checks README shows each region verbatim): "Scheduling".
namespace ReadmeSnippets.Scheduling;

/// <summary>The report the README rebuilds every night.</summary>
[Job("rebuild-report")]
public partial record RebuildReport(string Name);

/// <summary>The README's five-minute ping.</summary>
[Job("ping")]
public partial record Ping;

internal static class Schedules
{
    // Compiled, never called.
    internal static void Configure(IServiceCollection services, string connectionString)
    {
        #region readme-schedules
        services.AddJobs(jobs => jobs
            .UsePostgres(connectionString)          // or .UseInMemory()
            .AddGeneratedJobs()
            .AddWorkers()
            .AddSchedule(s =>
            {
                s.Add(new RebuildReport("daily"), Schedule.Daily(hour: 3, minute: 0, TimeZoneInfo.FindSystemTimeZoneById("Europe/London")));
                s.Add(new Ping(), Schedule.Cron("*/5 * * * *"), accuracy: ScheduleAccuracy.All);
                s.AddCleanup(new CleanupOptions
                {
                    CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(7)),
                    FailedJobs = CleanupAction.Rerun,
                }, Schedule.Weekly(DayOfWeek.Sunday));
            }));
        #endregion
    }
}
