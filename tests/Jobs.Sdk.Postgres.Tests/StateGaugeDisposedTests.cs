using System.Diagnostics.Metrics;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The state gauge (<see cref="JobsDiagnostics.StateCountInstrument"/>) once the host that used a store is disposed (a
/// tenant removed, a host rebuilt in a long-running process): its queues' series end with it, rather than repeating their
/// last counts until the garbage collector happens to drop the drivers.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StateGaugeDisposedTests(PostgresFixture fixture)
{
    [Fact]
    public async Task The_queues_of_a_disposed_host_are_no_longer_reported()
    {
        var prefix = "gaugegone_" + Guid.NewGuid().ToString("N")[..8] + "_";
        var names = Enumerable.Range(0, 3).Select(i => $"{prefix}{i}").ToArray();
        var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: names[0]);
        var samplers = new List<JobStateCountSampler>();
        await using (q)
        {
            foreach (var name in names)
            {
                await q.Queue.PushAsync(new ValueJob(1), new JobOptions { Queue = name });
                samplers.Add(JobsInstrumentation.GetSampler(q.Driver.ForQueue(name))!);
            }

            await Task.WhenAll(samplers.Select(s => s.RefreshAsync())).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(3 * 7, Series(prefix));
        }

        // Collected twice, as an exporter does every few seconds: nothing of the disposed host's queues either time.
        var first = Series(prefix);
        var second = Series(prefix);
        Assert.True(first + second == 0,
            $"after its host was disposed, jobs.state.count still reported {first} then {second} series of its {names.Length} queues (their last counts)");
    }

    /// <summary>The gauge's series of the queues named <paramref name="prefix"/>… in one collection.</summary>
    private static int Series(string prefix)
    {
        var series = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == JobsDiagnostics.MeterName && instrument.Name == JobsDiagnostics.StateCountInstrument)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == JobsInstrumentation.DestinationTag && tag.Value is string queue && queue.StartsWith(prefix, StringComparison.Ordinal))
                {
                    series++;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return series;
    }
}
