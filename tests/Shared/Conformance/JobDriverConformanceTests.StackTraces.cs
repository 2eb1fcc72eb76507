using Jobs.Sdk.Drivers;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <content>Stack traces in the per-attempt error history: stored next to the error, storable, bounded.</content>
public abstract partial class JobDriverConformanceTests
{
    [Fact]
    public async Task Each_failed_attempt_keeps_its_stack_trace_next_to_its_error()
    {
        var d = await DriverAsync(new RetentionPolicy { FailedJobs = Retain.Yes });
        var r = Record(1);
        await d.PushAsync([r], null, default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("w", 1, Minute)));
        await d.CompleteAsync("w", [Outcome(r.Id, JobOutcomeKind.Retry, 1, TimeSpan.Zero, 2, "E: first") with { StackTrace = "E: first\n   at A.B()" }], default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("w", 1, Minute)));
        await d.CompleteAsync("w", [Outcome(r.Id, JobOutcomeKind.Retry, 2, TimeSpan.Zero, 3, "E: second")], default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("w", 1, Minute)));
        var poison = "E: third\n   at nul\0byte lone\uD800surrogate " + new string('x', 9000);
        await d.CompleteAsync("w", [Outcome(r.Id, JobOutcomeKind.Failed, 3, Error: "E: third") with { StackTrace = poison }], default);

        var info = await InfoAsync(d, r.Id);
        Assert.Equal(JobState.Failed, info.State);
        Assert.Equal([(1, "E: first"), (2, "E: second"), (3, "E: third")], info.Errors.Select(e => (e.Attempt, e.Error)));
        Assert.Equal("E: first\n   at A.B()", info.Errors[0].StackTrace);
        Assert.Null(info.Errors[1].StackTrace);
        var stored = info.Errors[2].StackTrace!;
        Assert.StartsWith("E: third\n   at nul\uFFFDbyte lone\uFFFDsurrogate xxx", stored, StringComparison.Ordinal);
        Assert.Equal(8000, stored.Length);
    }
}
