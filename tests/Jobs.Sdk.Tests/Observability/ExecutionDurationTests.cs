using Jobs.Sdk.Tests.Execution;

namespace Jobs.Sdk.Tests.Observability;

/// <summary>
/// What <c>jobs.execution.duration</c> measures, against what it says it measures: a prefetching worker claims jobs ahead
/// into its buffer, so a claimed job may wait there before a runner takes it. That wait is in <c>jobs.queue.wait</c>; the
/// execution duration runs from when a runner takes the job (its handler pipeline starts) to its outcome, and the
/// instrument's description, which exporters publish as the metric's help text, must say so.
/// </summary>
[Collection(ObservabilityCollection.Name)]
public sealed class ExecutionDurationTests
{
    [Fact]
    public async Task A_job_that_waited_in_the_prefetch_buffer_counts_that_wait_in_queue_wait_not_in_its_execution_duration()
    {
        Microsoft.Extensions.Time.Testing.FakeTimeProvider? clock = null;
        await using var h = new ExecutorHarness([new JobDefinition<ValueJob>((_, _, _, _) =>
        {
            clock!.Advance(TimeSpan.FromSeconds(2)); // the handler runs 2 s
            return Task.CompletedTask;
        }, null, null)]);
        var time = clock = h.Time;
        using var metrics = new MetricCollector(h.Runtime.QueueName);

        // Claimed 1 s after it fell due, then 10 s in the buffer, then a runner takes it.
        var job = ExecutorHarness.Claim(new ValueJob(1)) with { DueFor = TimeSpan.FromSeconds(1) };
        using var run = new JobRun(job) { ClaimedTimestamp = time.GetTimestamp() };
        time.Advance(TimeSpan.FromSeconds(10));
        await h.Executor.ExecuteAsync(run);

        var duration = Assert.Single(metrics.Of(JobsDiagnostics.ExecutionDurationInstrument));
        var wait = Assert.Single(metrics.Of(JobsDiagnostics.QueueWaitInstrument));
        Assert.Equal(11, wait.Value, 3);
        Assert.Equal(2, duration.Value, 3);
        Assert.Equal("Duration of one attempt, from when a runner takes the job (its handler pipeline starts) to its outcome; "
            + "time in a worker's prefetch buffer is in jobs.queue.wait.", JobsMetrics.Shared.ExecutionDuration.Description);
    }
}
