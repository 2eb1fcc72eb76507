using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Idle waits of a process's workers (<see cref="WakeSignal"/>), on a fake clock.</summary>
public sealed class WakeSignalTests
{
    [Fact]
    public async Task A_wait_for_a_due_time_ends_once_its_millisecond_is_over_and_not_before()
    {
        // A job due at 100.4 ms is announced as due at 100 ms (whole milliseconds): a wait that ended at 100 ms would
        // claim too early, find nothing, and forget the due time until the next poll (an hour here).
        var time = new RecordingTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000_000_000));
        var wake = new WakeSignal(TimeSpan.FromHours(1), time);
        wake.WakeAt(time.GetUtcNow().ToUnixTimeMilliseconds() + 100);

        var wait = wake.WaitAsync(CancellationToken.None, CancellationToken.None);
        Assert.Equal(TimeSpan.FromMilliseconds(101), Assert.Single(time.Timers));
        time.Advance(TimeSpan.FromMilliseconds(101));
        await wait.WaitAsync(TimeSpan.FromSeconds(30));

        // The due time is spent: the next wait lasts the poll interval.
        var next = wake.WaitAsync(CancellationToken.None, CancellationToken.None);
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
