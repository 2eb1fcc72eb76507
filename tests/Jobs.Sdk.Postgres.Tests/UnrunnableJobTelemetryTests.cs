namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A job this worker cannot run (its payload does not decode: a newer version's job during a rolling deploy) still goes through
/// the pop observers, on the attempt's token. When the worker's stop interrupts them, the job goes back to pending uncounted (a
/// worker of the version that reads it runs it); when a user cancels it, it is cancelled. README "Metrics":
/// <c>jobs.discarded</c> counts jobs failed without running, and <c>jobs.cancelled</c> running jobs a user cancelled; README
/// "Tracing": the attempt's outcome is <c>released</c> or <c>cancelled</c>, neither an error.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UnrunnableJobTelemetryTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_job_whose_payload_does_not_decode_given_back_by_the_workers_stop_is_not_counted_as_discarded()
    {
        var popped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b
            .AddMiddleware(new HangingPop(popped))
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask), worker: o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(50));
        using var metrics = new MetricCollector(q.Driver.QueueName);
        using var spans = new ActivityCollector(q.Driver.QueueName);

        var id = await PushUnreadableAsync(q);
        await q.StartAsync();
        await popped.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await q.StopAsync();

        var job = (await q.Queue.GetJobAsync(id))!;
        Assert.Equal((JobState.Pending, 0), (job.State, job.Attempts)); // given back, its attempt not counted
        await spans.WaitAsync(s => s.Any(a => a.OperationName == "process test.value"));
        AssertMeasured(metrics, spans, "released", null);
    }

    [Fact]
    public async Task A_job_whose_payload_does_not_decode_cancelled_by_a_user_while_it_runs_is_counted_as_cancelled_not_discarded()
    {
        var popped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b
            .AddMiddleware(new HangingPop(popped))
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask), driver: d => d.Retention = new RetentionPolicy { CancelledJobs = Retain.Yes });
        using var metrics = new MetricCollector(q.Driver.QueueName);
        using var spans = new ActivityCollector(q.Driver.QueueName);

        var id = await PushUnreadableAsync(q);
        await q.StartAsync();
        await popped.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(await q.Queue.CancelAsync(id));

        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))!.State == JobState.Cancelled, 60, "the job is cancelled");
        await spans.WaitAsync(s => s.Any(a => a.OperationName == "process test.value"));
        AssertMeasured(metrics, spans, "cancelled", JobsDiagnostics.CancelledInstrument);
    }

    /// <summary>
    /// The attempt's span says <paramref name="outcome"/> (not an error), and the outcome counters counted
    /// <paramref name="counter"/> once (<see langword="null"/>: nothing).
    /// </summary>
    private static void AssertMeasured(MetricCollector metrics, ActivityCollector spans, string outcome, string? counter)
    {
        var span = spans.Spans.Single(a => a.OperationName == "process test.value");
        var counted = metrics.Points
            .Where(p => p.Instrument is JobsDiagnostics.CompletedInstrument or JobsDiagnostics.FailedInstrument or JobsDiagnostics.RetriedInstrument
                or JobsDiagnostics.CancelledInstrument or JobsDiagnostics.DiscardedInstrument)
            .Select(p => p.Tag("jobs.discard.reason") is { } reason ? $"{p.Instrument} {p.Value} ({reason})" : $"{p.Instrument} {p.Value}")
            .ToArray();
        string[] expected = counter is null ? [] : [$"{counter} 1"];
        Assert.True(span.GetTagItem("jobs.job.outcome") as string == outcome && span.Status != System.Diagnostics.ActivityStatusCode.Error
                && counted.SequenceEqual(expected),
            $"The attempt of a job whose payload does not decode that ended {outcome} was measured as '{span.GetTagItem("jobs.job.outcome")}' (span status {span.Status}), " +
            $"counted: [{string.Join(", ", counted)}]; expected [{string.Join(", ", expected)}].");
    }

    /// <summary>A job of the queue's type whose stored payload this version cannot read (as a newer version's may be).</summary>
    private static async Task<JobId> PushUnreadableAsync(TestQueue q)
    {
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await q.DataSource.ExecAsync($"UPDATE jobs_test.jobs SET payload = '{{\"value\": \"not a number\"}}' WHERE id = '{id.Value}'");
        return id;
    }

    /// <summary>Waits on its token for ever in <see cref="OnPopAsync"/> (a call without its own timeout).</summary>
    private sealed class HangingPop(TaskCompletionSource popped) : IJobMiddleware
    {
        public async ValueTask OnPopAsync(JobPopContext context, CancellationToken cancellationToken)
        {
            popped.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }
}
