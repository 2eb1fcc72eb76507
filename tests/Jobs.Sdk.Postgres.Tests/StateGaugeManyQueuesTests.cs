using System.Diagnostics.Metrics;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The state gauge (<see cref="JobsDiagnostics.StateCountInstrument"/>) of a process that uses 1,000 queues (a producer
/// pushing to one queue per tenant): each queue it pushed to has a sampler, and a refresh of all of them must read the
/// counts of every queue in one statement, not one count statement per queue.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StateGaugeManyQueuesTests(PostgresFixture fixture)
{
    private const int Queues = 1_000;

    [Fact]
    public async Task Refreshing_the_counts_of_1000_queues_reads_them_in_one_statement_and_reports_7_series_per_queue()
    {
        var prefix = "gaugemany_" + Guid.NewGuid().ToString("N")[..8] + "_";
        var names = Enumerable.Range(0, Queues).Select(i => $"{prefix}{i:D4}").ToArray();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: names[0]);
        foreach (var chunk in names.Chunk(50))
        {
            await Task.WhenAll(chunk.Select((n, i) => q.Queue.PushAsync(new ValueJob(i), new JobOptions { Queue = n })));
        }

        // Every queue pushed to is gauged, its counts refreshed (as a collection starts them once they are stale).
        var samplers = names.Select(n => JobsInstrumentation.GetSampler(q.Driver.ForQueue(n))).ToArray();
        Assert.All(samplers, Assert.NotNull);
        using var statements = new NpgsqlStatements();
        await Task.WhenAll(samplers.Select(s => s!.RefreshAsync())).WaitAsync(TimeSpan.FromSeconds(120));
        var countReads = statements.Ran.Count(s => s.Text.Contains("job_state_counts", StringComparison.Ordinal)
            && s.Text.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase));
        Assert.True(countReads <= 1,
            $"Refreshing the state gauge of {Queues:N0} queues ran {countReads:N0} count statements (one per queue); the counts table holds every queue's, one statement reads them all.");

        // What an exporter collects: 7 series per queue (one per state), each queue's own counts.
        var pending = new Dictionary<string, long>(StringComparer.Ordinal);
        var series = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == JobsDiagnostics.MeterName && instrument.Name == JobsDiagnostics.StateCountInstrument)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? queue = null;
            string? state = null;
            foreach (var tag in tags)
            {
                queue = tag.Key == JobsInstrumentation.DestinationTag ? tag.Value as string : queue;
                state = tag.Key == JobsInstrumentation.StateTag ? tag.Value as string : state;
            }

            if (queue is not null && queue.StartsWith(prefix, StringComparison.Ordinal))
            {
                series++;
                if (state == "pending")
                {
                    pending[queue] = value;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.Equal(7 * Queues, series);
        Assert.All(names, n => Assert.Equal(1, pending[n]));
    }
}
