using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Admin.Tests;

// A job list's filters read the same jobs on every driver: time bounds finer than a store keeps (PostgreSQL keeps
// microseconds, .NET has ticks of 100 ns) and an empty error text.
public abstract partial class AdminConformanceTests
{
    [Fact]
    public async Task A_time_filter_bound_given_to_the_tick_finds_the_job_pushed_for_that_instant()
    {
        await using var host = CreateHost();
        // 7 ticks (0.7 µs) past a whole microsecond, as DateTimeOffset.UtcNow and its arithmetic give instants.
        var day = DateTimeOffset.UtcNow.AddDays(1);
        var at = new DateTimeOffset(day.UtcTicks - (day.UtcTicks % 10) + 7, TimeSpan.Zero);
        var job = await host.Queue.PushAsync(new AdminJob(1, "tick"), new JobOptions { DelayUntil = at });
        var queuedAt = (await host.Admin.GetJobAsync(job))!.QueuedAt;
        var queuedWithin = queuedAt.AddTicks(7); // within the microsecond the store recorded

        async Task<string> FoundAsync(JobQuery query) => (await host.Admin.ListJobsAsync(query)).Items.Any(i => i.Id == job) ? "found" : "not found";
        var found = new[]
        {
            "RunAfter: " + await FoundAsync(new JobQuery { RunAfter = at }),
            "RunBefore: " + await FoundAsync(new JobQuery { RunBefore = at }),
            "QueuedAfter: " + await FoundAsync(new JobQuery { QueuedAfter = queuedWithin }),
            "QueuedBefore: " + await FoundAsync(new JobQuery { QueuedBefore = queuedWithin }),
        };

        Assert.Equal(["RunAfter: found", "RunBefore: not found", "QueuedAfter: found", "QueuedBefore: not found"], found);
        Assert.Equal(1, await host.Admin.RunNowAsync(JobSelection.Matching(new JobQuery { RunAfter = at })));
    }

    [Fact]
    public async Task An_empty_error_text_filters_nothing_as_an_empty_payload_text_does()
    {
        await using var host = CreateHost();
        var jobs = await PushDelayedAsync(host.Queue, 2, "no-error");

        var byError = await host.Admin.ListJobsAsync(new JobQuery { ErrorText = "" });
        var byPayload = await host.Admin.ListJobsAsync(new JobQuery { PayloadText = "" });

        Assert.Equal(jobs.OrderByDescending(id => id.Value), byPayload.Items.Select(i => i.Id));
        Assert.Equal(jobs.OrderByDescending(id => id.Value), byError.Items.Select(i => i.Id));
        Assert.Equal(2, (await host.Admin.PreviewAsync(JobSelection.Matching(new JobQuery { ErrorText = "" }), new JobAdminAction(JobAdminActionKind.Cancel))).WouldChange);
    }
}
