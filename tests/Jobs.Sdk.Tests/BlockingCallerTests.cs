namespace Jobs.Sdk.Tests;

/// <summary>
/// A WinForms/WPF/classic ASP.NET thread (a single-threaded <see cref="SynchronizationContext"/>) blocking on the SDK's async
/// calls with the in-memory driver: nothing the SDK awaits may resume on that context (it would deadlock).
/// </summary>
public sealed class BlockingCallerTests
{
    [Fact]
    public void The_blocking_caller_reports_a_continuation_posted_to_it_instead_of_hanging()
    {
        using var caller = new BlockingCaller();
        var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => caller.Wait("a method awaiting without ConfigureAwait(false)", CapturingAsync));

        Assert.Contains("posted 1 continuation(s) to the caller's SynchronizationContext", failure.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(CapturingAsync), failure.Message, StringComparison.Ordinal);
        // Pumped to its end on the caller's thread and reported once: nothing is left behind for the next call.
        caller.AssertNothingPosted("after the reported call");

        static async Task CapturingAsync() => await Task.Delay(1);
    }

    [Fact]
    public void The_blocking_caller_reports_work_that_captured_it_and_resumed_between_calls()
    {
        using var caller = new BlockingCaller();
        var gate = new TaskCompletionSource();
        var resumed = ResumesOnItsContextAsync(gate.Task); // started on the caller's thread: captures its context
        var opener = new Thread(gate.SetResult); // the continuation is posted inside SetResult, on that other thread
        opener.Start();
        opener.Join();

        var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => caller.AssertNothingPosted("after the gate opened"));

        Assert.Contains("1 continuation(s) were posted to the caller's SynchronizationContext after the gate opened", failure.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(ResumesOnItsContextAsync), failure.Message, StringComparison.Ordinal);
        Assert.True(resumed.IsCompletedSuccessfully, "pumped to its end on the caller's thread");

        static async Task ResumesOnItsContextAsync(Task gate) => await gate;
    }

    [Fact]
    public void Queue_admin_and_worker_calls_blocked_on_from_a_single_threaded_context_never_resume_on_it()
    {
        using var caller = new BlockingCaller();
        BlockingCallerCalls.QueueAdminAndWorker(caller, jobs => jobs.UseInMemory());
    }

    [Fact]
    public void A_host_started_checked_stopped_and_disposed_from_a_single_threaded_context_never_resumes_on_it()
    {
        using var caller = new BlockingCaller();
        BlockingCallerCalls.HostLifetime(caller, jobs => jobs.UseInMemory());
    }

    [Fact]
    public Task A_handler_that_installs_its_own_context_does_not_capture_the_worker() => HandlerContextCalls.RunAsync(jobs => jobs.UseInMemory());
}
