using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Idle waits of a process's workers (<see cref="WakeSignal"/>), on a fake clock.</summary>
public sealed class WakeSignalTests
{
    [Fact]
    public async Task A_wait_for_an_announced_due_time_ends_once_its_millisecond_is_over_and_not_before()
    {
        // A job due at 100.4 ms is announced as due at 100 ms (whole milliseconds): a wait that ended at 100 ms would
        // claim too early, find nothing, and forget the due time until the next poll (an hour here).
        var time = new RecordingTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000_000_000).AddTicks(3_000));
        var notifier = new PostgresNotifier(null!, null, "jobs_test", "wake", TimeSpan.FromHours(1), time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
        var dueMs = time.GetUtcNow().ToUnixTimeMilliseconds() + 100;
        notifier.OnNotification(new JobNotification(JobNotificationKind.DueAt, DueAtUnixMs: dueMs).Format());

        var wait = notifier.WaitForWorkAsync(CancellationToken.None);
        // The job is due by the end of the announced millisecond, 100.7 ms from now: the wait ends at 101 ms (timers
        // take whole milliseconds), never at 100.
        Assert.Equal(TimeSpan.FromMilliseconds(101), Assert.Single(time.Timers));
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await wait.WaitAsync(TimeSpan.FromSeconds(30));

        // The due time is spent: the next wait lasts the poll interval.
        var next = notifier.WaitForWorkAsync(CancellationToken.None);
        Assert.Equal(TimeSpan.FromHours(1), time.Timers[^1]);
        time.Advance(TimeSpan.FromHours(1));
        await next.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>A fake clock that records the due time of every timer created on it (Task.Delay makes one per wait).</summary>
    private sealed class RecordingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private readonly List<TimeSpan> _timers = [];

        public IReadOnlyList<TimeSpan> Timers
        {
            get
            {
                lock (_timers)
                {
                    return [.. _timers];
                }
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (_timers)
            {
                _timers.Add(dueTime);
            }

            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
