using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The state gauge (<see cref="JobsDiagnostics.StateCountInstrument"/>) of a host serving many queues: each collection by a
/// metrics exporter refreshes every queue's counts, and those refreshes take turns on one connection instead of each
/// renting a pooled connection of its own at the same instant.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StateGaugeBurstTests(PostgresFixture fixture)
{
    private const int AddedQueues = 10;

    /// <summary>
    /// Eleven idle queues, a listener collecting the gauge as an exporter does. Before, every collection after the counts
    /// went stale started eleven count queries at once, each on a pooled connection: the host's server connections went from
    /// its held ones to about twice as many at each collection (a pool sized to the documented minimum made them wait there,
    /// handlers and outcomes behind them). The host must hold no more than its held connections and one each for the gauge, a
    /// maintenance pass and a presence report, over several refreshes of every queue's counts.
    /// </summary>
    [Fact]
    public async Task Collecting_the_state_gauge_of_many_queues_uses_one_connection_at_a_time()
    {
        var app = "gaugeburst_" + Guid.NewGuid().ToString("N")[..8];
        await using var dataSource = fixture.CreateDataSource(b =>
        {
            b.ApplicationName = app; // counted in pg_stat_activity
            b.MaxPoolSize = 50;
            b.ConnectionIdleLifetime = 2; // the pool closes what a burst opened within seconds (300 s by default)...
            b.ConnectionPruningInterval = 1; // ...so each refresh's burst opens its connections again
        });
        await using var observer = fixture.CreateDataSource();
        var prefix = "gaugeburst_" + Guid.NewGuid().ToString("N")[..8];
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobs(jobs =>
        {
            jobs.UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = prefix;
                o.HeldConnectionIdleTimeout = Timeout.InfiniteTimeSpan; // the held connections stay: polls never rent from the pool
            });
            for (var i = 0; i < AddedQueues; i++)
            {
                jobs.AddQueue(prefix + "_" + i, q => q.Concurrency = 1);
            }

            jobs.AddJob<ValueJob>((_, _, _) => Task.CompletedTask).AddWorkers();
        });
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));

        // What an exporter does: collect the gauge now and then; its callback starts a refresh of the stale counts.
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == JobsDiagnostics.MeterName && instrument.Name == JobsDiagnostics.StateCountInstrument)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        var seen = new List<string>();
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "messaging.destination.name" && tag.Value is string queue && queue.StartsWith(prefix, StringComparison.Ordinal))
                {
                    lock (seen)
                    {
                        seen.Add(queue);
                    }
                }
            }
        });
        listener.Start();
        try
        {
            var worker = host.Services.GetRequiredService<JobWorker>();
            JobWorker[] queues = [worker, .. worker.Lanes];
            Assert.Equal(AddedQueues + 1, queues.Length);

            // LISTEN and each queue's held connection; one each for the gauge, a maintenance pass, a presence report.
            var bound = 1 + queues.Length + 3;
            await ServerConnections.EventuallyAsync(observer, app, n => n <= bound, $"the idle host holds at most {bound} server connections");

            // Collections over three refresh intervals of the counts (JobStateCountSampler.RefreshInterval): the host never holds more.
            var most = 0L;
            var atMost = "";
            var until = DateTime.UtcNow + 3 * JobStateCountSampler.RefreshInterval + TimeSpan.FromSeconds(1);
            var collections = 0;
            while (DateTime.UtcNow < until)
            {
                listener.RecordObservableInstruments();
                collections++;
                var count = await ServerConnections.CountAsync(observer, app);
                if (count > most)
                {
                    most = count;
                    atMost = await ServerConnections.DescribeAsync(observer, app);
                }

                await Task.Delay(20);
            }

            lock (seen)
            {
                Assert.True(queues.All(q => seen.Contains(q.QueueName)), $"the gauge reported every queue after {collections} collections");
            }

            Assert.True(most <= bound,
                $"The idle host held {most} server connections while the state gauge of its {queues.Length} queues was collected; at most {bound} " +
                $"(LISTEN, {queues.Length} held, one for the gauge, one maintenance pass, one presence report):\n{atMost}");
        }
        finally
        {
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
    }
}
