using System.Diagnostics;

namespace Jobs.Sdk.Tests;

/// <summary>
/// The prefetch target (issue 15): about two claim round trips of work, none for slow jobs, capped; and never more jobs
/// than fit in the payload byte budget (<see cref="JobWorkerOptions.PrefetchMaxBytes"/>).
/// </summary>
public sealed class PrefetchSizerTests
{
    private const long Budget = 16L << 20;
    private const long MiB = 1 << 20;

    private static long Ms(double ms) => (long)(ms * Stopwatch.Frequency / 1000);

    private static PrefetchSizer Fast(long budget = Budget)
    {
        var sizer = PrefetchSizer.Adaptive(concurrency: 16, budget);
        for (var i = 0; i < 100; i++)
        {
            sizer.JobRan(Ms(0.01));
        }

        return sizer;
    }

    [Fact]
    public void Nothing_is_buffered_before_a_job_has_run()
    {
        var sizer = PrefetchSizer.Adaptive(concurrency: 16, Budget);
        sizer.Claimed(Ms(2), jobs: 16, payloadBytes: 16 * 100);
        Assert.Equal(0, sizer.Target);
    }

    [Fact]
    public void Short_jobs_fill_the_buffer_up_to_the_cap_and_slow_jobs_get_none()
    {
        var fast = Fast();
        fast.Claimed(Ms(2), jobs: 16, payloadBytes: 16 * 100);
        Assert.Equal(PrefetchSizer.Max, fast.Target);

        var slow = PrefetchSizer.Adaptive(concurrency: 16, Budget);
        slow.JobRan(Ms(500));
        slow.Claimed(Ms(2), jobs: 16, payloadBytes: 16 * 100);
        Assert.Equal(0, slow.Target);
    }

    [Fact]
    public void The_buffer_holds_about_two_claim_round_trips_of_work()
    {
        var sizer = PrefetchSizer.Adaptive(concurrency: 4, Budget);
        sizer.JobRan(Ms(1));
        sizer.Claimed(Ms(2), jobs: 4, payloadBytes: 4 * 100); // 4 slots × 2 × 2 ms ÷ 1 ms = 16 jobs
        Assert.InRange(sizer.Target, 15, 16);
    }

    [Fact]
    public void Payloads_up_to_the_budget_over_the_cap_leave_the_buffer_as_deep_as_time_wants()
    {
        var sizer = Fast();
        sizer.Claimed(Ms(2), jobs: 100, payloadBytes: 100 * (Budget / PrefetchSizer.Max)); // 32 KiB each
        Assert.Equal(PrefetchSizer.Max, sizer.Target);
    }

    [Fact]
    public void Large_payloads_limit_the_buffer_to_the_jobs_that_fit_in_the_budget()
    {
        var sizer = Fast();
        sizer.Claimed(Ms(2), jobs: 16, payloadBytes: 16 * MiB);
        Assert.Equal(16, sizer.Target); // 16 MiB ÷ 1 MiB

        var huge = Fast();
        huge.Claimed(Ms(2), jobs: 2, payloadBytes: 2 * 40 * MiB);
        Assert.Equal(0, huge.Target); // a payload larger than the budget: no buffer, free slots only
    }

    [Fact]
    public void A_larger_payload_counts_at_once_and_a_smaller_one_gradually()
    {
        var sizer = Fast();
        sizer.Claimed(Ms(2), jobs: 10, payloadBytes: 10 * 100);
        Assert.Equal(PrefetchSizer.Max, sizer.Target);

        sizer.Claimed(Ms(2), jobs: 4, payloadBytes: 4 * MiB); // a burst of large jobs: the next claim already fits the budget
        Assert.Equal(16, sizer.Target);

        sizer.Claimed(Ms(2), jobs: 16, payloadBytes: 16 * 100); // small again: the buffer grows back, not all at once
        Assert.InRange(sizer.Target, 17, 31);
        for (var i = 0; i < 40; i++)
        {
            sizer.Claimed(Ms(2), jobs: 16, payloadBytes: 16 * 100);
        }

        Assert.Equal(PrefetchSizer.Max, sizer.Target);
    }

    [Fact]
    public void An_empty_claim_keeps_the_payload_estimate()
    {
        var sizer = Fast();
        sizer.Claimed(Ms(2), jobs: 4, payloadBytes: 4 * MiB);
        sizer.Claimed(Ms(2), jobs: 0, payloadBytes: 0);
        Assert.Equal(16, sizer.Target);
    }

    [Fact]
    public void A_fixed_prefetch_keeps_its_count_for_small_payloads_and_is_capped_by_the_budget_for_large_ones()
    {
        var sizer = PrefetchSizer.Fixed(64, Budget);
        Assert.Equal(64, sizer.Target); // the first claim: no payload seen yet
        sizer.JobRan(Ms(500)); // slow jobs do not shrink a fixed prefetch
        sizer.Claimed(Ms(2), jobs: 80, payloadBytes: 80 * 100);
        Assert.Equal(64, sizer.Target);

        sizer.Claimed(Ms(2), jobs: 80, payloadBytes: 80 * 2 * MiB);
        Assert.Equal(8, sizer.Target); // 16 MiB ÷ 2 MiB
    }

    [Fact]
    public void The_default_budget_is_16_MiB_and_must_be_positive()
    {
        Assert.Equal(Budget, new JobWorkerOptions().PrefetchMaxBytes);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new JobWorkerOptions { PrefetchMaxBytes = 0 }.Validate());
        Assert.Equal(nameof(JobWorkerOptions.PrefetchMaxBytes), ex.ParamName);
    }
}
