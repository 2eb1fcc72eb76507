using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A worker host serving many idle queues whose held connections went back to the pool: the queues' idle polls take turns
/// on one pooled connection instead of renting one each at the same instant.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IdlePollTurnTests(PostgresFixture fixture)
{
    private const int HeldConnectionReleased = 2016;

    /// <summary>
    /// Eleven idle queues in one generic host, started together and so polling at the same instants. Once every queue has
    /// given its claim-and-renewal connection back (<see cref="PostgresJobDriverOptions.HeldConnectionIdleTimeout"/>), the
    /// host should hold about what one poll needs; but each round of polls rented a pooled connection per queue at once, so
    /// the pool kept (or reopened, after each pruning) one server connection per queue: what the idle timeout is for was
    /// lost. Over 20 polls of every queue the host must hold no more than LISTEN, one poll, one maintenance pass and one
    /// presence report.
    /// </summary>
    [Fact]
    public async Task Idle_queues_poll_on_one_pooled_connection_at_a_time_once_their_held_connections_are_released()
    {
        var logs = new EventIdLog();
        await using var host = await IdleManyQueueHost.StartAsync(fixture, "idlepoll",
            workers: o => o.LeaseDuration = TimeSpan.FromSeconds(1), // idle means a whole lease without work too
            driver: o =>
            {
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.HeldConnectionIdleTimeout = TimeSpan.FromSeconds(1);
            },
            logs: logs);
        var (observer, app, queues) = (host.Observer, host.App, host.Queues);

        await TestExtensions.EventuallyAsync(() => Task.FromResult(logs.Ids.Count(id => id == HeldConnectionReleased) >= queues.Count), 60,
            $"each of the {queues.Count} idle queues gives its held connection back");

        // LISTEN, one idle poll, one maintenance pass, one presence report.
        const int bound = 4;

        // The pool closes what it no longer uses (the released connections) within seconds here.
        await ServerConnections.EventuallyAsync(observer, app, n => n <= bound, $"the idle host holds at most {bound} server connections");
        var from = queues.Select(q => q.Claims).ToArray();
        var (most, atMost) = await ServerConnections.MostUntilAsync(observer, app,
            () => queues.Select((q, i) => q.Claims - from[i]).Min() >= 20, "every queue polls 20 more times");

        Assert.True(most <= bound,
            $"The idle host held {most} server connections during 20 polls of each of its {queues.Count} queues (their held connections " +
            $"released); at most {bound} (LISTEN, one poll, one maintenance pass, one presence report):\n{atMost}");
    }

    /// <summary>
    /// The turn is for polls only. A job pushed to an idle queue (its held connection given back) wakes that queue's claim
    /// at once; that claim must not wait for the idle queues' poll turn, or with many idle queues polling at the same
    /// instants a wake-up would wait behind all of their claims. The test holds the turn (as a long round of polls would)
    /// while it pushes: the job must run meanwhile.
    /// </summary>
    [Fact]
    public async Task A_job_pushed_to_an_idle_queue_starts_without_waiting_for_the_idle_queues_poll_turn()
    {
        var logs = new EventIdLog();
        var ran = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await IdleManyQueueHost.StartAsync(fixture, "idlewake",
            workers: o => o.LeaseDuration = TimeSpan.FromSeconds(1),
            driver: o =>
            {
                o.PollInterval = TimeSpan.FromSeconds(3); // the queues poll rarely: the wake-up comes from the push
                o.HeldConnectionIdleTimeout = TimeSpan.FromSeconds(1);
            },
            logs: logs,
            ran: job => ran.TrySetResult(job.Value));
        var queues = host.Queues;
        await TestExtensions.EventuallyAsync(() => Task.FromResult(logs.Ids.Count(id => id == HeldConnectionReleased) >= queues.Count), 60,
            $"each of the {queues.Count} idle queues gives its held connection back");

        var turn = host.Host.Services.GetRequiredService<PostgresJobDriver>().IdleClaims;
        Assert.True(await turn.WaitAsync(TimeSpan.FromSeconds(60)), "the test takes the idle queues' poll turn");
        try
        {
            await host.Host.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(7), new JobOptions { Queue = queues[3].QueueName });
            var started = await ran.Task.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
            Assert.True(started,
                "A job pushed to an idle queue did not start within 30 s while the idle queues' poll turn was taken: its claim, woken by the push, waited for the turn");
        }
        finally
        {
            turn.Release();
        }
    }
}
