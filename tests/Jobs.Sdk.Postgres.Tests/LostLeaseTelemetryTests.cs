using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A worker cut off from PostgreSQL loses its running job's lease (its watchdog cancels the handler; 1008), and another node's
/// rescue requeues the job, counting that attempt in <c>jobs.retried</c> (README "Metrics"). A handler that ignores its token
/// (a call without one) returns later: its attempt is <c>lease_lost</c> (README "Tracing") and counts nothing, or the one
/// attempt counts twice (the rescue's retry and a completion the store never took) and the job, run again, completes twice.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LostLeaseTelemetryTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task An_attempt_that_returns_after_its_worker_lost_the_lease_counts_nothing_and_its_span_says_lease_lost()
    {
        var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        await using var proxy = TcpProxy.Start(connection.Host!, connection.Port);
        var queueName = "lostlease_" + Guid.NewGuid().ToString("N")[..8];
        using var metrics = new MetricCollector(queueName);
        using var spans = new ActivityCollector(queueName);
        var held = new HeldHandler();
        await using var cutOff = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, ct) => held.RunAsync(ct)), queueName: queueName,
            worker: o =>
            {
                o.Concurrency = 1;
                o.LeaseDuration = Lease;
                o.RescueInterval = TimeSpan.FromHours(1);
                o.ShutdownTimeout = TimeSpan.Zero;
            },
            dataSource: fixture.CreateDataSource(b =>
            {
                b.Host = "127.0.0.1";
                b.Port = proxy.Port;
            }));
        await using var rescuer = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: queueName);
        try
        {
            var id = await rescuer.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 3 });
            await cutOff.StartAsync();
            await held.Started.WaitAsync(TimeSpan.FromSeconds(60));

            proxy.Stall();
            await held.TokenCancelled.WaitAsync(Lease * 2 + TimeSpan.FromSeconds(60)); // the watchdog: the lease ended unrenewed
            await TestExtensions.EventuallyAsync(async () => await rescuer.Driver.RescueExpiredLeasesAsync(CancellationToken.None) == 1, 60,
                "the other node's rescue requeues the job once its lease expired in the database");
            Assert.Equal(JobState.Retrying, (await rescuer.Queue.GetJobAsync(id))!.State);
            await metrics.WaitAsync(m => m.Sum(JobsDiagnostics.RetriedInstrument) == 1);

            held.Release();
            await spans.WaitAsync(s => s.Any(a => a.OperationName == "process test.value"));

            var span = spans.Spans.Single(a => a.OperationName == "process test.value");
            var counted = string.Join(", ", metrics.Points.Where(p => p.Instrument is not (JobsDiagnostics.PushedInstrument or JobsDiagnostics.QueueWaitInstrument
                    or JobsDiagnostics.ExecutionDurationInstrument or JobsDiagnostics.StateCountInstrument))
                .Select(p => $"{p.Instrument} {p.Value} ({p.Tag("error.type") ?? "-"})"));
            Assert.True(metrics.Sum(JobsDiagnostics.CompletedInstrument) == 0 && span.GetTagItem("jobs.job.outcome") as string == "lease_lost",
                $"The attempt whose worker had lost the lease (the rescue requeued the job) returned and was measured as " +
                $"'{span.GetTagItem("jobs.job.outcome")}' (span status {span.Status}); counted: {counted}.");
        }
        finally
        {
            held.Release();
            proxy.Resume();
        }
    }
}
