using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// One process, two drivers on two schemas, both serving a queue of the same name (two hosts, a modular monolith): the
/// metrics must tell the two stores apart, or an exporter sums their counters and keeps one of their gauge values.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SchemaMetricTagTests(PostgresFixture fixture)
{
    private const string SchemaTag = "jobs.schema";

    /// <summary>
    /// One job pushed and run on schema A, two on schema B, one queue name: <c>jobs.pushed</c>, <c>jobs.completed</c> and
    /// the <c>jobs.state.count</c> gauge report each store under its own tag set (carrying <c>jobs.schema</c>), with each
    /// store's own numbers.
    /// </summary>
    [Fact]
    public async Task Two_schemas_serving_one_queue_name_report_their_metrics_under_different_tags()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (schemaA, schemaB) = ("mt_a_" + suffix, "mt_b_" + suffix);
        var queueName = "metrics_" + suffix;
        var counters = new ConcurrentQueue<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        var gauges = new ConcurrentQueue<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == JobsDiagnostics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var map = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                map[tag.Key] = tag.Value;
            }

            if (map.GetValueOrDefault("messaging.destination.name") as string == queueName)
            {
                (instrument.Name == JobsDiagnostics.StateCountInstrument ? gauges : counters).Enqueue((instrument.Name, value, map));
            }
        });
        listener.Start();

        var ran = new ConcurrentDictionary<JobId, bool>();
        await using var a = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, c, _) => Done(c)),
            driver: o => { o.Schema = schemaA; o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes }; }, queueName: queueName);
        await using var b = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, c, _) => Done(c)),
            driver: o => { o.Schema = schemaB; o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes }; }, queueName: queueName);
        try
        {
            await a.Queue.PushAsync(new ValueJob(1));
            await b.Queue.PushManyAsync([new ValueJob(2), new ValueJob(3)]);

            // The gauge: both stores' pending counts, each reported once per collection.
            var pending = await CollectGaugeAsync(listener, gauges, "pending", 2);
            Assert.True(pending.Count == 2,
                $"jobs.state.count (pending) of queue {queueName} on two schemas came under {pending.Count} tag set(s): " + Describe(pending));
            Assert.Equal([1L, 2L], pending.Values.Order());

            await a.StartAsync();
            await b.StartAsync();
            await TestExtensions.EventuallyAsync(() => Task.FromResult(ran.Count == 3), 60, "the three jobs run");
            await TestExtensions.EventuallyAsync(() => Task.FromResult(Sums("jobs.completed").Values.Sum() == 3), 60, "three completions are counted");

            foreach (var instrument in new[] { "jobs.pushed", "jobs.completed" })
            {
                var sums = Sums(instrument);
                Assert.True(sums.Count == 2, $"{instrument} of queue {queueName} on two schemas came under {sums.Count} tag set(s): " + Describe(sums));
                Assert.Equal(1, sums.Single(s => s.Key.Contains($"{SchemaTag}={schemaA}", StringComparison.Ordinal)).Value);
                Assert.Equal(2, sums.Single(s => s.Key.Contains($"{SchemaTag}={schemaB}", StringComparison.Ordinal)).Value);
            }
        }
        finally
        {
            await a.StopAsync();
            await b.StopAsync();
            await a.DataSource.ExecAsync($"DROP SCHEMA IF EXISTS {schemaA} CASCADE; DROP SCHEMA IF EXISTS {schemaB} CASCADE");
        }

        Task Done(JobContext context)
        {
            ran[context.Id] = true;
            return Task.CompletedTask;
        }

        Dictionary<string, long> Sums(string instrument) => counters.Where(m => m.Instrument == instrument)
            .GroupBy(m => Key(m.Tags)).ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
    }

    /// <summary>Collects the gauge until <paramref name="expected"/> values of <paramref name="state"/> came in one collection (or 60 s passed).</summary>
    private static async Task<Dictionary<string, long>> CollectGaugeAsync(MeterListener listener,
        ConcurrentQueue<(string Instrument, long Value, Dictionary<string, object?> Tags)> measurements, string state, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var latest = new Dictionary<string, long>();
        while (DateTime.UtcNow < deadline)
        {
            measurements.Clear();
            listener.RecordObservableInstruments();
            var collected = measurements.Where(m => m.Instrument == JobsDiagnostics.StateCountInstrument
                && m.Tags.GetValueOrDefault("jobs.job.state") as string == state).ToList();
            latest = collected.GroupBy(m => Key(m.Tags)).ToDictionary(g => g.Key, g => g.Last().Value);
            if (collected.Count >= expected && collected.Sum(m => m.Value) == 3)
            {
                return latest; // both samplers have sampled (counts 1 and 2): one value per tag set, as an exporter keeps them
            }

            await Task.Delay(100);
        }

        return latest;
    }

    private static string Key(Dictionary<string, object?> tags)
        => string.Join(",", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));

    private static string Describe(Dictionary<string, long> sums) => string.Join("; ", sums.Select(s => $"[{s.Key}] = {s.Value}"));
}
