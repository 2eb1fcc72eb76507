using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>The core scheduler on the PostgreSQL schedule store: two nodes, each fire pushed once.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SchedulerTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Two_schedulers_on_one_queue_push_each_fire_exactly_once()
    {
        var queueName = "sched_" + Guid.NewGuid().ToString("N")[..8];
        var fireSecond = DateTimeOffset.UtcNow.AddSeconds(3).Second;
        var ran = new Recorder<int>();
        var handled = new ConcurrentQueue<(DateTimeOffset Fire, bool Pushed)>();
        var bothHandled = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
        var providers = new List<ServiceProvider>();
        var schedulers = new List<JobScheduler>();
        try
        {
            for (var node = 0; node < 2; node++)
            {
                var services = new ServiceCollection();
                var dataSource = fixture.CreateDataSource();
                services.AddSingleton(dataSource);
                services.AddJobs(jobs => jobs
                    .UsePostgres(dataSource, o => { o.Schema = "jobs_test"; o.QueueName = queueName; })
                    .AddJob<ValueJob>((job, _, _) => { ran.Add(job.Value); return Task.CompletedTask; })
                    .AddSchedule(s => s.Add(new ValueJob(42), Schedule.EveryMinute(second: fireSecond), key: "every-minute")));
                var provider = services.BuildServiceProvider();
                providers.Add(provider);
                var scheduler = provider.GetRequiredService<JobScheduler>();
                scheduler.FireHandled += (_, fire, pushed) =>
                {
                    handled.Enqueue((fire, pushed));
                    // The first fire both nodes handled: a node that starts after the first fire time (a slow start on a
                    // loaded machine) resumes from the next one, which the other node handles as well.
                    if (handled.Count(h => h.Fire == fire) >= 2)
                    {
                        bothHandled.TrySetResult(fire);
                    }
                };
                schedulers.Add(scheduler);
            }

            foreach (var scheduler in schedulers)
            {
                await scheduler.StartAsync(default);
            }

            var fire = await bothHandled.Task.WaitAsync(TimeSpan.FromSeconds(90));
            var fires = handled.Where(h => h.Fire <= fire).ToArray();
            Assert.Equal(2, fires.Count(h => h.Fire == fire));
            Assert.Single(fires, h => h.Fire == fire && h.Pushed);
            Assert.All(fires.GroupBy(h => h.Fire), g => Assert.Single(g, h => h.Pushed)); // an earlier fire one node handled alone

            var store = providers[0].GetRequiredService<PostgresJobDriver>();
            Assert.Equal(fire, await ((Drivers.IJobScheduleStore)store).GetLastFireTimeAsync("every-minute", default));
            var worker = providers[0].GetRequiredService<JobQueue>();
            Assert.Equal(fires.Select(h => h.Fire).Distinct().Count(), (await worker.GetCountsAsync()).Pending);
        }
        finally
        {
            foreach (var scheduler in schedulers)
            {
                await scheduler.StopAsync(default);
            }

            foreach (var provider in providers)
            {
                await provider.GetRequiredService<Npgsql.NpgsqlDataSource>().DisposeAsync();
                await provider.DisposeAsync();
            }
        }
    }
}
