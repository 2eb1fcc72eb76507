using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Tests;

/// <summary>
/// The turn the maintenance passes of one host's queues take: one after another, spread over the interval, and a pass
/// stuck on the store holds the others back one interval at most.
/// </summary>
public sealed class MaintenanceTurnTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    [Fact]
    public void First_waits_spread_the_lanes_over_one_interval_and_never_exceed_it()
    {
        var turn = new MaintenanceTurn();
        var slots = Enumerable.Range(0, 11).Select(_ => turn.Join()).ToArray();
        Assert.Equal(Enumerable.Range(0, 11), slots);

        var waits = slots.Select(s => turn.FirstWait(s, Interval)).ToArray();
        Assert.All(waits, w => Assert.InRange(w, TimeSpan.FromTicks(1), Interval));
        Assert.Equal(11, waits.Distinct().Count());
        Assert.Equal(Interval, waits[^1]);
        Assert.Equal(Interval, new MaintenanceTurn().FirstWait(0, Interval)); // a worker on its own: as before
    }

    [Fact]
    public async Task A_pass_waits_for_the_turn_at_most_the_bound_then_runs_beside_the_stuck_one()
    {
        var time = new FakeTimeProvider();
        var turn = new MaintenanceTurn();
        Assert.True(await turn.EnterAsync(Interval, time, CancellationToken.None)); // a pass that never ends holds it

        var second = turn.EnterAsync(Interval, time, CancellationToken.None);
        Assert.False(second.IsCompleted);
        time.Advance(Interval);
        Assert.False(await second.WaitAsync(TimeSpan.FromSeconds(60)));

        turn.Exit();
        Assert.True(await turn.EnterAsync(Interval, time, CancellationToken.None));
        var third = turn.EnterAsync(Interval, time, CancellationToken.None);
        turn.Exit(); // the turn passes on: the waiting pass takes it
        Assert.True(await third.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_stop_ends_the_wait_for_the_turn()
    {
        var turn = new MaintenanceTurn();
        Assert.True(await turn.EnterAsync(Interval, TimeProvider.System, CancellationToken.None));
        using var stop = new CancellationTokenSource();
        var waiting = turn.EnterAsync(Interval, TimeProvider.System, stop.Token);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(60)));
    }
}
