namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A worker host serving many queues: the queues' maintenance passes (rescue, expired holds, count compaction, audit
/// retention) take turns on one connection, spread over the rescue interval, instead of firing together on a pooled
/// connection each.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MaintenanceBurstTests(PostgresFixture fixture)
{
    /// <summary>
    /// Eleven idle queues in one generic host, each holding its claim-and-renewal connection. Before, every queue's pass fired
    /// at the same instant on a pooled connection of its own: the host's server connections went from 12 (11 held and
    /// LISTEN) to 23 every rescue interval, the pool grew by one connection per queue each time (a pool sized to the
    /// documented minimum made them wait there, handlers behind them). The host must hold no more than its held connections
    /// and one each for a maintenance pass and a presence report, over several passes of every queue.
    /// </summary>
    [Fact]
    public async Task Idle_queues_maintenance_uses_one_connection_at_a_time()
    {
        await using var host = await IdleManyQueueHost.StartAsync(fixture, "maintburst", o => o.RescueInterval = TimeSpan.FromSeconds(1));
        var (observer, app, queues) = (host.Observer, host.App, host.Queues);

        // LISTEN and each queue's held connection, one maintenance pass, one presence report.
        var bound = host.HeldConnections + 2;

        // Past the start (the pool closes what the migrations and the first claims opened beside the held ones).
        await ServerConnections.EventuallyAsync(observer, app, n => n <= bound && queues.All(q => q.RescuePasses >= 1),
            $"every queue ran a pass and the idle host holds at most {bound} server connections");

        // Three more passes of every queue: the host never holds more.
        var from = queues.Select(q => q.RescuePasses).ToArray();
        var (most, atMost) = await ServerConnections.MostUntilAsync(observer, app,
            () => queues.Select((q, i) => q.RescuePasses - from[i]).Min() >= 3, "every queue runs three more rescue passes");

        Assert.True(most <= bound,
            $"The idle host held {most} server connections during three rescue passes of each of its {queues.Count} queues; at most {bound} " +
            $"(LISTEN, {queues.Count} held, one maintenance pass, one presence report):\n{atMost}");
    }
}
