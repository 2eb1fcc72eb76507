using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The state gauge (<see cref="JobsDiagnostics.StateCountInstrument"/>) while the database is out of reach: an alert on it
/// must see the series stop once the counts are old, not a flat line of the counts from before the outage. The queue's
/// clock is a fake one (the samples' age is read on it); the outage is real (every connection cut, new ones refused).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StateGaugeOutageTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task During_an_outage_the_gauge_stops_reporting_counts_older_than_three_refresh_intervals_and_reports_again_after_it()
    {
        var upstream = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        await using var proxy = TcpProxy.Start(upstream.Host!, upstream.Port);
        var (q, metrics, time) = await StartAsync(fixture.CreateDataSource(b => { b.Host = "127.0.0.1"; b.Port = proxy.Port; b.Timeout = 3; }));
        await using var _ = q;
        using var __ = metrics;
        await q.Queue.PushManyAsync([new ValueJob(1), new ValueJob(2), new ValueJob(3)]);
        var sampler = JobsInstrumentation.GetSampler(q.Driver)!;
        await sampler.RefreshAsync().WaitAsync(Guard);
        Assert.Equal(3, Pending(Collect(metrics)));

        proxy.RefuseConnections();
        proxy.CutAll();
        await sampler.RefreshAsync().WaitAsync(Guard); // fails: the store is out of reach

        // A blip shorter than three refresh intervals keeps the last sample (no gap for a collector reading every second).
        time.Advance(JobStateCountSampler.RefreshInterval);
        Assert.Equal(3, Pending(Collect(metrics)));

        await sampler.RefreshAsync().WaitAsync(Guard); // fails again
        time.Advance(3 * JobStateCountSampler.RefreshInterval);
        var during = Collect(metrics);
        Assert.True(during.Count == 0,
            $"20 s into the outage (the last sample 20 s old, every refresh since failed), jobs.state.count still reported the counts from before it: " +
            string.Join(", ", during.Select(p => $"{p.Tag("jobs.job.state")}={p.Value}")));

        proxy.AcceptConnections();
        var deadline = DateTime.UtcNow + Guard;
        IReadOnlyList<MetricPoint> after;
        do
        {
            Assert.True(DateTime.UtcNow < deadline, "the gauge did not report again within 60 s of the store's return");
            time.Advance(JobStateCountSampler.RefreshInterval); // a read (failed or not) serves every queue for one interval
            await sampler.RefreshAsync().WaitAsync(Guard);
            after = Collect(metrics);
        }
        while (after.Count == 0);

        Assert.Equal(3, Pending(after));
    }

    /// <summary>
    /// An operator who sees the counts vanish finds why in the logs: one warning (event 1300, with the error) at the first
    /// failed refresh, none for the failures that follow (an outage would log one per refresh interval and queue), and one
    /// information (event 1301) when a refresh succeeds again. Nothing was logged: the counts vanished without a word.
    /// </summary>
    [Fact]
    public async Task An_outage_logs_one_warning_when_the_counts_first_fail_and_one_when_they_return()
    {
        var upstream = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        await using var proxy = TcpProxy.Start(upstream.Host!, upstream.Port);
        var logs = new CapturingLoggerProvider();
        var (q, metrics, time) = await StartAsync(fixture.CreateDataSource(b => { b.Host = "127.0.0.1"; b.Port = proxy.Port; b.Timeout = 3; }), logs);
        await using var _ = q;
        using var __ = metrics;
        await q.Queue.PushAsync(new ValueJob(1));
        var sampler = JobsInstrumentation.GetSampler(q.Driver)!;
        await sampler.RefreshAsync().WaitAsync(Guard);
        Assert.Empty(GaugeLogs(logs));

        proxy.RefuseConnections();
        proxy.CutAll();
        for (var refresh = 0; refresh < 3; refresh++)
        {
            await sampler.RefreshAsync().WaitAsync(Guard); // fails: the store is out of reach
            time.Advance(JobStateCountSampler.RefreshInterval);
        }

        var during = GaugeLogs(logs);
        Assert.True(during.Count == 1 && during[0].EventId.Id == 1300 && during[0].Level == LogLevel.Warning,
            $"three failed refreshes of jobs.state.count logged {during.Count} gauge event(s), not one warning 1300: "
            + string.Join("; ", during.Select(e => $"{e.EventId.Id} {e.Level} {e.Message}")));
        Assert.Equal(1, during[0].State["QueueCount"]);
        Assert.Equal($"'{q.Driver.QueueName}'", during[0].State["Queues"]);

        proxy.AcceptConnections();
        var deadline = DateTime.UtcNow + Guard;
        while (Collect(metrics).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the gauge did not report again within 60 s of the store's return");
            time.Advance(JobStateCountSampler.RefreshInterval); // a read (failed or not) serves every queue for one interval
            await sampler.RefreshAsync().WaitAsync(Guard);
        }

        await sampler.RefreshAsync().WaitAsync(Guard); // succeeds again: logs nothing more
        var after = GaugeLogs(logs);
        Assert.Equal([1300, 1301], after.Select(e => e.EventId.Id));
        Assert.Equal(LogLevel.Information, after[1].Level);
        Assert.Equal($"'{q.Driver.QueueName}'", after[1].State["Queues"]);
    }

    /// <summary>
    /// One read of every queue's counts serves all the queues of a store (<see cref="StoreStateCountRead"/>), so an outage
    /// is one failure of that read, whatever the queues: a process gauging 50 queues of one driver logs one warning 1300
    /// naming how many queues it leaves without counts, and one 1301 when the read succeeds again. Each queue's sampler
    /// logged its own: 50 warnings (1,000 for a process with 1,000 queues), and 50 recoveries.
    /// </summary>
    [Fact]
    public async Task An_outage_of_a_store_gauging_50_queues_logs_one_warning_for_the_store_and_one_recovery()
    {
        const int Queues = 50;
        var upstream = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        await using var proxy = TcpProxy.Start(upstream.Host!, upstream.Port);
        var logs = new CapturingLoggerProvider();
        var (q, metrics, time) = await StartAsync(fixture.CreateDataSource(b => { b.Host = "127.0.0.1"; b.Port = proxy.Port; b.Timeout = 3; }), logs);
        await using var _ = q;
        using var __ = metrics;
        var names = new[] { q.Driver.QueueName }.Concat(Enumerable.Range(1, Queues - 1).Select(i => $"{q.Driver.QueueName}_{i:D2}")).ToArray();
        await Task.WhenAll(names.Select((n, i) => q.Queue.PushAsync(new ValueJob(i), new JobOptions { Queue = n })));
        var samplers = names.Select(n => JobsInstrumentation.GetSampler(q.Driver.ForQueue(n))!).ToArray();
        Assert.All(samplers, Assert.NotNull);
        await Task.WhenAll(samplers.Select(s => s.RefreshAsync())).WaitAsync(Guard);
        Assert.Empty(GaugeLogs(logs));

        proxy.RefuseConnections();
        proxy.CutAll();
        for (var refresh = 0; refresh < 3; refresh++)
        {
            time.Advance(JobStateCountSampler.RefreshInterval);
            await Task.WhenAll(samplers.Select(s => s.RefreshAsync())).WaitAsync(Guard); // fail: the store is out of reach
        }

        var during = GaugeLogs(logs);
        Assert.True(during.Count == 1 && during[0].EventId.Id == 1300 && during[0].Level == LogLevel.Warning,
            $"three failed refreshes of the jobs.state.count gauge of {Queues} queues of one store logged {during.Count} gauge event(s), not one warning 1300: "
            + string.Join("; ", during.Take(3).Select(e => $"{e.EventId.Id} {e.Level} {e.Message}")));
        Assert.Equal(Queues, during[0].State["QueueCount"]);
        Assert.Contains($"{Queues} queue(s) ('{names[0]}', '{names[1]}', '{names[2]}' and {Queues - 3} more)", during[0].Message, StringComparison.Ordinal);

        proxy.AcceptConnections();
        var deadline = DateTime.UtcNow + Guard;
        while (Collect(metrics).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the gauge did not report again within 60 s of the store's return");
            time.Advance(JobStateCountSampler.RefreshInterval); // a read (failed or not) serves every queue for one interval
            await Task.WhenAll(samplers.Select(s => s.RefreshAsync())).WaitAsync(Guard);
        }

        time.Advance(JobStateCountSampler.RefreshInterval);
        await Task.WhenAll(samplers.Select(s => s.RefreshAsync())).WaitAsync(Guard); // succeeds again: logs nothing more
        var after = GaugeLogs(logs);
        Assert.True(after.Select(e => e.EventId.Id).SequenceEqual([1300, 1301]),
            $"the outage and the return of the counts of {Queues} queues of one store logged "
            + string.Join(", ", after.GroupBy(e => e.EventId.Id).Select(g => $"{g.Count()} event(s) {g.Key}")) + ", not one 1300 and one 1301");
        Assert.Equal(LogLevel.Information, after[1].Level);
        Assert.Equal(Queues, after[1].State["QueueCount"]);
    }

    /// <summary>
    /// Passes as written (a guard for the fix above): an exporter that collects once a minute finds every sample a minute
    /// old, since its collection starts the next refresh. While those refreshes succeed, the counts are reported however old.
    /// </summary>
    [Fact]
    public async Task A_collector_reading_once_a_minute_gets_the_counts_while_the_store_answers()
    {
        var (q, metrics, time) = await StartAsync(fixture.CreateDataSource());
        await using var _ = q;
        using var __ = metrics;
        await q.Queue.PushManyAsync([new ValueJob(1), new ValueJob(2)]);
        var sampler = JobsInstrumentation.GetSampler(q.Driver)!;
        await sampler.RefreshAsync().WaitAsync(Guard);

        for (var minute = 1; minute <= 3; minute++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            Assert.Equal(2, Pending(Collect(metrics))); // the sample of a minute ago; this collection starts the next one
            await sampler.RefreshAsync().WaitAsync(Guard);
        }
    }

    private async Task<(TestQueue Queue, MetricCollector Metrics, FakeTimeProvider Time)> StartAsync(NpgsqlDataSource dataSource,
        CapturingLoggerProvider? logs = null)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var queueName = "gauge_outage_" + Guid.NewGuid().ToString("N")[..8];
        var metrics = new MetricCollector(queueName);
        var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddSingleton<TimeProvider>(time);
            if (logs is not null)
            {
                b.Services.AddLogging(l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
            }

            b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask);
        }, queueName: queueName, dataSource: dataSource);
        return (q, metrics, time);
    }

    /// <summary>One collection, as an exporter makes it: the gauge's measurements of this queue.</summary>
    private static IReadOnlyList<MetricPoint> Collect(MetricCollector metrics) => metrics.Collect(JobsDiagnostics.StateCountInstrument);

    /// <summary>The gauge's log events (1300-1319), oldest first.</summary>
    private static List<CapturingLoggerProvider.LogEntry> GaugeLogs(CapturingLoggerProvider logs)
        => logs.Entries.Where(e => e.EventId.Id is >= 1300 and < 1320).ToList();

    private static double Pending(IReadOnlyList<MetricPoint> points)
        => points.SingleOrDefault(p => p.Tag("jobs.job.state") == "pending")?.Value ?? -1;
}
