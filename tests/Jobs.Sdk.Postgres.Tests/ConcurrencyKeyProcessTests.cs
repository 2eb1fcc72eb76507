using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Issue 16: per-key concurrency across three worker processes. Each run records its span (database clock) and
/// <c>N = key * 1000 + place in the key's push order</c>; no more than the limit of a key's runs overlap, and per key
/// they start in push order.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ConcurrencyKeyProcessTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private const int Keys = 4;
    private const int PerKey = 8;

    [Fact]
    public async Task ConcurrencyLimit_per_key_holds_across_three_worker_processes_in_push_order()
    {
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { });
        var table = await ProcessTests.CreateRunsTableAsync(setup.DataSource);
        await setup.DataSource.ExecAsync(
            $"CREATE TABLE jobs_test.{table}_keyed (job_id uuid PRIMARY KEY, n int NOT NULL, worker text NOT NULL, run uuid NOT NULL UNIQUE, started_at timestamptz NOT NULL, ended_at timestamptz)");

        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                // 6 slots each (18 in all): slots never bind, only the keys do (4 keys of limit 1, 2 keys of limit 2: 8 at most).
                workers.Add(await WorkerProcess.StartAsync(fixture.ConnectionString, setup.Queue.QueueName, table, concurrency: 6, leaseSeconds: 30, workMs: 30,
                    keyed: true));
            }

            // Pushed once every process runs, interleaved across keys (place = push order within a key).
            var order = Enumerable.Range(0, PerKey).SelectMany(place => Enumerable.Range(0, Keys).Select(key => key * 1000 + place)).ToList();
            await setup.Queue.PushManyAsync(order.Select(n => new KeyedRecordJob(n)));
            await setup.Queue.PushManyAsync(order.Where(n => n / 1000 < 2).Select(n => new PairedRecordJob(n + 100)));
            var total = order.Count + (order.Count / 2);

            await TestExtensions.EventuallyAsync(
                async () => await setup.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}_keyed WHERE ended_at IS NOT NULL") == total,
                seconds: 120, what: $"{total} keyed runs recorded");
            foreach (var w in workers)
            {
                Assert.Equal(0, await w.StopAsync());
            }

            // The most spans of one key open at one instant (an end sorts before a start at the same instant), per limit.
            const string Limit1 = "n % 1000 < 100";
            string MostPerKey(string where) => $"""
                SELECT coalesce(max(open), 0) FROM (
                    SELECT sum(d) OVER (PARTITION BY k ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS open
                    FROM (SELECT n / 1000 AS k, started_at AS t, 1 AS d FROM jobs_test.{table}_keyed WHERE {where}
                          UNION ALL SELECT n / 1000, ended_at, -1 FROM jobs_test.{table}_keyed WHERE {where}) e) x
                """;
            var one = await setup.DataSource.ScalarAsync(MostPerKey(Limit1));
            var two = await setup.DataSource.ScalarAsync(MostPerKey("NOT (" + Limit1 + ")"));
            var overall = await setup.DataSource.ScalarAsync($"""
                SELECT max(open) FROM (SELECT sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS open
                    FROM (SELECT started_at AS t, 1 AS d FROM jobs_test.{table}_keyed UNION ALL SELECT ended_at, -1 FROM jobs_test.{table}_keyed) e) x
                """);
            output.WriteLine($"most running at once: per key of limit 1: {one}, per key of limit 2: {two}, in all: {overall}");
            Assert.Equal(1L, one);
            Assert.InRange(two, 1, 2);
            Assert.True(overall >= 2, "keys ran side by side");

            // Per key of limit 1, each run starts after the one pushed before it (two runs of a key of limit 2 claimed
            // together may start in either order on their two slots).
            var outOfOrder = await setup.DataSource.ScalarAsync($"""
                SELECT count(*) FROM (
                    SELECT n, lag(n) OVER (PARTITION BY n / 1000 ORDER BY started_at, n) AS before FROM jobs_test.{table}_keyed WHERE {Limit1}) x
                WHERE before > n
                """);
            Assert.Equal(0L, outOfOrder);
            Assert.True(await setup.DataSource.ScalarAsync($"SELECT count(DISTINCT worker) FROM jobs_test.{table}_keyed") >= 2, "the work was shared by the processes");
        }
        finally
        {
            foreach (var w in workers)
            {
                w.Dispose();
            }
        }
    }
}
