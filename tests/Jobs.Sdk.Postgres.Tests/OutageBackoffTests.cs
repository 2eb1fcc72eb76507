using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The store is away (read-only during a failover, SQLSTATE 25006) when the outcome writer records its outcomes: each
/// pass tries the whole batch twice at once (the second on a new connection: see StaleConnectionOutcomeTests) and backs
/// it off, with one warning (1004) per pass, until the store takes writes again. Writing row by row is for a store that is
/// up and refuses one row; while it is away it would be a wasted round trip (and another warning) per pass, and so would
/// an outcome that finishes meanwhile and is tried on its own.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OutageBackoffTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private const int Passes = 6;
    private const int Refused = 2 * Passes; // two tries per pass

    [Fact]
    public async Task During_an_outage_each_pass_tries_the_whole_batch_twice_at_once_and_logs_one_warning_with_its_backoff()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        var warnings = new OutcomeWarnings();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondReturns = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b =>
            {
                b.Services.AddLogging(l => l.AddProvider(warnings));
                b.AddJob<ValueJob>(async (job, _, _) =>
                {
                    if (job.Value == 1)
                    {
                        await first.Task;
                        return;
                    }

                    await second.Task;
                    secondReturns.TrySetResult();
                });
            },
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes });
        var a = await q.Queue.PushAsync(new ValueJob(1));
        var b = await q.Queue.PushAsync(new ValueJob(2));
        // The server refuses the first writes of these jobs' outcomes as a read-only server does (25006), then takes them.
        // The sequence counts the statements that reached a row (a refused one stops at its first).
        await direct.ExecAsync($"""
            CREATE SEQUENCE public.away_{suffix};
            CREATE FUNCTION public.away_{suffix}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('public.away_{suffix}') <= {Refused} THEN
                    RAISE EXCEPTION 'cannot execute UPDATE in a read-only transaction' USING ERRCODE = 'read_only_sql_transaction';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER away_{suffix} BEFORE UPDATE OF state ON jobs_test.jobs
                FOR EACH ROW WHEN (OLD.id IN ('{a.Value}', '{b.Value}') AND OLD.state = {(int)JobState.Processing}) EXECUTE FUNCTION public.away_{suffix}();
            """);
        int beforeSecond;
        try
        {
            await q.StartAsync();
            first.TrySetResult();
            await TestExtensions.EventuallyAsync(() => Task.FromResult(warnings.Entries.Count >= 2), seconds: 60,
                what: "the first job's outcome met the outage twice");
            // The second job finishes during the outage: its outcome waits for the next pass with the first one's. (The
            // passes are 400 ms or more apart by then: at most the one under way when it is reported goes without it.)
            second.TrySetResult();
            await secondReturns.Task.WaitAsync(TimeSpan.FromSeconds(60));
            beforeSecond = warnings.Entries.Count;
            await TestExtensions.EventuallyAsync(async () =>
                (await q.Queue.GetJobAsync(a))?.State == JobState.Completed && (await q.Queue.GetJobAsync(b))?.State == JobState.Completed,
                seconds: 60, what: "both outcomes are recorded once the outage ends");
        }
        finally
        {
            await direct.ExecAsync($"DROP TRIGGER away_{suffix} ON jobs_test.jobs; DROP FUNCTION public.away_{suffix}(); DROP SEQUENCE public.away_{suffix};");
        }

        await q.StopAsync();
        var entries = warnings.Entries.ToArray();
        var seen = string.Join(", ", entries.Select(e => $"({e.Count} outcomes, retrying in {e.Delay})"));
        output.WriteLine($"warnings: {seen}; the second job finished after warning {beforeSecond}");
        // One warning per pass (two refused statements), each backing off longer than the one before: no row-by-row attempt
        // (logged with no delay) and no try of the batch after a wait of its own within a pass.
        Assert.True(entries.Length == Passes, $"{Refused} refused writes, {entries.Length} warnings (not one per pass): {seen}");
        Assert.True(entries.Select(e => e.Delay).SequenceEqual(Enumerable.Range(1, Passes).Select(WorkerDelay.Backoff)),
            $"the warnings' delays are not one backoff step each: {seen}");
        // Once the second outcome is reported, the passes carry both: it is not tried on its own while the store is away.
        var after = entries.Skip(beforeSecond).Select(e => e.Count).ToArray();
        Assert.True(after.SkipWhile(c => c == 1).All(c => c == 2) && after.Count(c => c == 1) <= 1,
            $"after the second job finished (from warning {beforeSecond + 1}), the passes' batches were: {seen}");
    }
}
