using System.Diagnostics;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A collection of the state gauge (<see cref="JobsDiagnostics.StateCountInstrument"/>) never waits on the store: it starts
/// a refresh of the counts in the background. An exporter that collects inside a request (a Prometheus scrape endpoint)
/// must not find that refresh's count query in the scrape's trace, nor its failure warning in the scrape's logging scope.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StateGaugeTraceTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_collection_inside_a_request_span_refreshes_the_counts_outside_its_trace()
    {
        using var statements = new NpgsqlStatements();
        var queueName = "gauge_trace_" + Guid.NewGuid().ToString("N")[..8];
        using var metrics = new MetricCollector(queueName);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: queueName);
        await q.Queue.PushAsync(new ValueJob(1));
        var sampler = JobsInstrumentation.GetSampler(q.Driver)!;
        var before = statements.Ran.Count;

        ActivityTraceId scrape;
        using (var span = new Activity("scrape").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            scrape = span.TraceId;
            metrics.RecordObservableInstruments(); // the first collection: starts the first refresh
        }

        await sampler.RefreshAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var refresh = statements.Ran.Skip(before).ToArray();
        Assert.NotEmpty(refresh);
        var inScrape = refresh.Count(s => s.TraceId == scrape);
        Assert.True(inScrape == 0, $"{inScrape} of the {refresh.Length} statements the gauge's refresh ran belong to the trace of the request that collected");
    }
}
