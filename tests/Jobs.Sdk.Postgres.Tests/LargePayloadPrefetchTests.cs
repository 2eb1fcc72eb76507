using System.Text.Json;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>A job carrying one large string (a document, an embedded blob).</summary>
public sealed record BlobJob(string Data) : IJob<BlobJob>
{
    public static string JobName => "test.blob";

    public static void Serialize(Utf8JsonWriter writer, BlobJob job)
    {
        writer.WriteStartObject();
        writer.WriteString("data", job.Data);
        writer.WriteEndObject();
    }

    public static BlobJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        reader.Read(); // {
        reader.Read(); // "data"
        reader.Read();
        return new BlobJob(reader.GetString() ?? "");
    }
}

/// <summary>
/// Jobs with large payloads and fast handlers: the adaptive prefetch sizes its buffer by time (claim round trip ÷ handler
/// time), so without a byte budget it claimed hundreds of 1 MB jobs into one worker's buffer at once (hundreds of MB in
/// memory: an OOM kill in a container with a memory limit, then the same on the next worker after the leases end). The
/// buffer, adaptive or a fixed <see cref="JobWorkerOptions.Prefetch"/>, holds at most
/// <see cref="JobWorkerOptions.PrefetchMaxBytes"/> (16 MiB by default) of payload once the worker has seen payload sizes.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LargePayloadPrefetchTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private const int Jobs = 150;
    private const int PayloadChars = 1 << 20;
    private const long Budget = 16L << 20;

    [Theory]
    [InlineData(0)]  // the default: adaptive
    [InlineData(64)] // a fixed prefetch
    public async Task A_worker_buffers_large_payloads_within_the_prefetch_byte_budget(int prefetch)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var ran = 0;
        await using var direct = fixture.CreateDataSource();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<BlobJob>((_, _, _) =>
            {
                Interlocked.Increment(ref ran);
                return Task.CompletedTask;
            }),
            worker: o =>
            {
                o.Concurrency = new JobWorkerOptions().Concurrency; // the defaults a user gets, but for the prefetch
                o.Prefetch = prefetch;
            });
        var queue = q.Queue.QueueName;
        var data = new string('x', PayloadChars);
        for (var i = 0; i < Jobs; i += 20)
        {
            await q.Queue.PushManyAsync(Enumerable.Range(i, 20).Select(_ => new BlobJob(data)).ToList());
        }

        // Every claim of this queue's jobs, as the store records it: per claim (one transaction), the rows it took and how
        // many of them it claimed not started (the prefetch buffer: beyond the runners idle at the claim).
        await direct.ExecAsync($"""
            CREATE TABLE public.claims_{suffix} (xid bigint NOT NULL, buffered boolean NOT NULL);
            CREATE FUNCTION public.claims_{suffix}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO public.claims_{suffix} VALUES (txid_current(), NEW.started_at IS NULL);
                RETURN NULL;
            END $$;
            CREATE TRIGGER claims_{suffix} AFTER UPDATE OF state ON jobs_test.jobs
                FOR EACH ROW WHEN (NEW.queue_name = '{queue}' AND OLD.state IN ({(int)JobState.Pending}, {(int)JobState.Retrying})
                    AND NEW.state = {(int)JobState.Processing}) EXECUTE FUNCTION public.claims_{suffix}();
            """);
        long largestClaim, mostBuffered, claims;
        // The first claim is not limited: the worker has seen no payload yet (a fixed prefetch takes its count then).
        var afterFirst = $"FROM public.claims_{suffix} WHERE xid > (SELECT min(xid) FROM public.claims_{suffix})";
        try
        {
            await q.StartAsync();
            await TestExtensions.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref ran) >= Jobs), seconds: 120, what: $"the {Jobs} jobs ran");
            await q.StopAsync();
            largestClaim = await direct.ScalarAsync($"SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n {afterFirst} GROUP BY xid) c");
            mostBuffered = await direct.ScalarAsync($"SELECT coalesce(max(n), 0) FROM (SELECT count(*) FILTER (WHERE buffered) AS n {afterFirst} GROUP BY xid) c");
            claims = await direct.ScalarAsync($"SELECT count(DISTINCT xid) FROM public.claims_{suffix}");
        }
        finally
        {
            await direct.ExecAsync($"DROP TRIGGER claims_{suffix} ON jobs_test.jobs; DROP FUNCTION public.claims_{suffix}(); DROP TABLE public.claims_{suffix};");
        }

        output.WriteLine($"{Jobs} jobs of {PayloadChars} B payload, Prefetch {prefetch}: {claims} claims; after the first, largest {largestClaim} rows, " +
            $"at most {mostBuffered} claimed not started in one claim");
        // One claim's buffered jobs (the runners were busy) may fill the budget, and the free slots' share of a claim is
        // not limited; the slack is one payload per runner.
        var concurrency = new JobWorkerOptions().Concurrency;
        Assert.True(mostBuffered * PayloadChars <= Budget + (concurrency * PayloadChars),
            $"Prefetch {prefetch}: a claim after the first took {largestClaim} jobs of {PayloadChars} B payload, {mostBuffered} of them into the prefetch buffer " +
            $"({mostBuffered * PayloadChars >> 20} MiB); the buffer must stay within the {Budget >> 20} MiB prefetch byte budget " +
            $"(+ one payload per runner, {concurrency}).");
    }
}
