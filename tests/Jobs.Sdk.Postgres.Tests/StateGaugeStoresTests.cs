using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The state gauge (<see cref="JobsDiagnostics.StateCountInstrument"/>) of a process that uses several stores (a database
/// per tenant, two schemas): one store whose count read hangs (a server that takes the request and never answers, until
/// the read's own timeout) must not stop the counts of the others.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StateGaugeStoresTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_store_whose_count_read_hangs_does_not_hold_up_the_counts_of_another_store()
    {
        var upstream = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        await using var proxy = TcpProxy.Start(upstream.Host!, upstream.Port);
        var (hanging, hangingMetrics) = await StartAsync(fixture.CreateDataSource(b => { b.Host = "127.0.0.1"; b.Port = proxy.Port; b.SslMode = SslMode.Disable; }));
        await using var _ = hanging;
        using var __ = hangingMetrics;
        var (healthy, metrics) = await StartAsync(fixture.CreateDataSource());
        await using var ___ = healthy;
        using var ____ = metrics;
        await healthy.Queue.PushManyAsync([new ValueJob(1), new ValueJob(2)]);

        // The hanging store's count read reaches its server and its reply never comes back (until the read's timeout).
        proxy.HoldRepliesAfter("job_state_counts");
        var hung = JobsInstrumentation.GetSampler(hanging.Driver)!.RefreshAsync();
        await TestExtensions.EventuallyAsync(() => Task.FromResult(proxy.HoldsReplies), 60,
            "the hanging store's count read reached its server, the reply held");

        // The healthy store's refresh, given 2 s: less than the hanging read's own 10 s, so a refresh that waited for it
        // runs out of time first.
        var sampler = JobsInstrumentation.GetSampler(healthy.Driver)!;
        sampler.RefreshTimeout = TimeSpan.FromSeconds(2);
        await sampler.RefreshAsync().WaitAsync(Guard);
        var points = Collect(metrics);
        var pending = points.SingleOrDefault(p => p.Tag("jobs.job.state") == "pending")?.Value;
        Assert.True(pending == 2,
            $"while another store's count read hung, the healthy store's jobs.state.count reported {(pending is null ? "nothing" : $"{pending} pending")}, " +
            "not its 2 pending jobs: its refresh waited for the other store's read and ran out of time");

        proxy.CutHeld();
        await hung.WaitAsync(Guard);
    }

    private async Task<(TestQueue Queue, MetricCollector Metrics)> StartAsync(NpgsqlDataSource dataSource)
    {
        var queueName = "gauge_stores_" + Guid.NewGuid().ToString("N")[..8];
        var metrics = new MetricCollector(queueName);
        var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UtcNow));
            b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask);
        }, queueName: queueName, dataSource: dataSource);
        return (q, metrics);
    }

    /// <summary>One collection, as an exporter makes it: the gauge's measurements of this queue.</summary>
    private static IReadOnlyList<MetricPoint> Collect(MetricCollector metrics) => metrics.Collect(JobsDiagnostics.StateCountInstrument);
}
