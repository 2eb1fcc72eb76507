using System.Diagnostics;

namespace Jobs.Sdk.Tests;

/// <summary>The adaptive prefetch target (issue 15): about two claim round trips of work, none for slow jobs, capped.</summary>
public sealed class PrefetchSizerTests
{
    private static long Ms(double ms) => (long)(ms * Stopwatch.Frequency / 1000);

    [Fact]
    public void Nothing_is_buffered_before_a_job_has_run()
    {
        var sizer = new PrefetchSizer(concurrency: 16);
        sizer.Claimed(Ms(2));
        Assert.Equal(0, sizer.Target);
    }

    [Fact]
    public void Short_jobs_fill_the_buffer_up_to_the_cap_and_slow_jobs_get_none()
    {
        var fast = new PrefetchSizer(concurrency: 16);
        for (var i = 0; i < 100; i++)
        {
            fast.JobRan(Ms(0.01));
        }

        fast.Claimed(Ms(2));
        Assert.Equal(PrefetchSizer.Max, fast.Target);

        var slow = new PrefetchSizer(concurrency: 16);
        slow.JobRan(Ms(500));
        slow.Claimed(Ms(2));
        Assert.Equal(0, slow.Target);
    }

    [Fact]
    public void The_buffer_holds_about_two_claim_round_trips_of_work()
    {
        var sizer = new PrefetchSizer(concurrency: 4);
        sizer.JobRan(Ms(1));
        sizer.Claimed(Ms(2)); // 4 slots × 2 × 2 ms ÷ 1 ms = 16 jobs
        Assert.InRange(sizer.Target, 15, 16);
    }
}
