using System.Diagnostics.Metrics;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The state gauge (<see cref="JobsDiagnostics.StateCountInstrument"/>) of a host serving many queues: each collection by a
/// metrics exporter refreshes every queue's counts, and those refreshes take turns on one connection instead of each
/// renting a pooled connection of its own at the same instant.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StateGaugeBurstTests(PostgresFixture fixture)
{
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
        await using var host = await IdleManyQueueHost.StartAsync(fixture, "gaugeburst");
        var (observer, app, queues) = (host.Observer, host.App, host.Queues);
        var prefix = queues[0].QueueName;

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

        // LISTEN and each queue's held connection; one each for the gauge, a maintenance pass, a presence report.
        var bound = host.HeldConnections + 3;
        await ServerConnections.EventuallyAsync(observer, app, n => n <= bound, $"the idle host holds at most {bound} server connections");

        // Collections over three refresh intervals of the counts (JobStateCountSampler.RefreshInterval): the host never holds more.
        var until = DateTime.UtcNow + 3 * JobStateCountSampler.RefreshInterval + TimeSpan.FromSeconds(1);
        var collections = 0;
        var (most, atMost) = await ServerConnections.MostUntilAsync(observer, app, () =>
        {
            if (DateTime.UtcNow >= until)
            {
                return true;
            }

            listener.RecordObservableInstruments();
            collections++;
            return false;
        }, "three refresh intervals of collections");

        lock (seen)
        {
            Assert.True(queues.All(q => seen.Contains(q.QueueName)), $"the gauge reported every queue after {collections} collections");
        }

        Assert.True(most <= bound,
            $"The idle host held {most} server connections while the state gauge of its {queues.Count} queues was collected; at most {bound} " +
            $"(LISTEN, {queues.Count} held, one for the gauge, one maintenance pass, one presence report):\n{atMost}");
    }
}
