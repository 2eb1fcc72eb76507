using System.Collections.Concurrent;
using System.Diagnostics;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The NOTIFY that announces pushed jobs when a push could not carry it itself (another announcement was in flight) is sent
/// by the driver in the background, for every push of the queue since: the process's own work. With Npgsql's tracing on
/// (OpenTelemetry's <c>AddNpgsql</c>) it must not become a child of whichever traced request happened to push first.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PushAnnouncementTraceTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Concurrent pushes, each inside a request span of its own, until the driver has sent an announcement of its own (not
    /// riding on a push's round trip). That announcement belongs to no request's trace; it was in the trace of the request
    /// that pushed first (whose trace then showed a statement it did not run, sent after it had returned).
    /// </summary>
    [Fact]
    public async Task An_announcement_sent_in_the_background_is_in_no_pushing_request_trace()
    {
        var announced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var statements = new NpgsqlStatements(s =>
        {
            if (IsOwnAnnouncement(s.Text))
            {
                announced.TrySetResult();
            }
        });
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));

        var requests = new ConcurrentDictionary<ActivityTraceId, byte>();
        var deadline = DateTime.UtcNow + Guard;
        while (!announced.Task.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "no announcement of its own was sent within 60 s of concurrent pushes");
            await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            {
                using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
                requests[request.TraceId] = 0;
                await q.Queue.PushAsync(new ValueJob(i));
            })));
        }

        var own = statements.Ran.Where(s => IsOwnAnnouncement(s.Text)).ToArray();
        var inRequests = own.Count(s => requests.ContainsKey(s.TraceId));
        Assert.True(inRequests == 0,
            $"{inRequests} of the {own.Length} announcements the driver sent on its own belong to the trace of a request that pushed");
    }

    /// <summary>An announcement on a connection of its own: a NOTIFY in a batch without the push's statement.</summary>
    private static bool IsOwnAnnouncement(string text)
        => text.Contains("pg_notify", StringComparison.Ordinal) && !text.Contains("INSERT", StringComparison.OrdinalIgnoreCase);
}
