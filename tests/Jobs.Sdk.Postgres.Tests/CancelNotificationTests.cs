using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A cancel notification names the claim it was meant for: one that arrives late (a slow listener, a stalled network)
/// must not cancel a later claim of the same job.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CancelNotificationTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_late_cancel_notification_for_an_earlier_claim_does_not_cancel_a_later_claim_of_the_same_job()
    {
        var runs = 0;
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondRelease = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondSawCancel = false;
        var probeStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probeCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var queueName = "latecancel_" + Guid.NewGuid().ToString("N")[..8];
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (job, _, ct) =>
        {
            if (job.Value == 2)
            {
                // The probe: a job on the same worker whose (real) cancel is sent after the late one.
                probeStarted.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                finally
                {
                    probeCancelled.TrySetResult();
                }
            }

            if (Interlocked.Increment(ref runs) == 1)
            {
                firstStarted.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct); // ends when the user's cancel arrives
            }

            secondStarted.TrySetResult();
            await Task.WhenAny(secondRelease.Task, Task.Delay(Timeout.Infinite, ct));
            secondSawCancel = ct.IsCancellationRequested;
            ct.ThrowIfCancellationRequested();
        }), queueName: queueName,
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, CancelledJobs = Retain.Yes },
            worker: o => o.Concurrency = 2);

        // Listen on the queue's channel to see the notification exactly as the server sends it.
        await using var listener = await q.DataSource.OpenConnectionAsync();
        var payloads = new List<string>();
        listener.Notification += (_, e) => payloads.Add(e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN \"{PostgresNotifier.ChannelName("jobs_test", queueName)}\"", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await firstStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await q.Queue.CancelAsync(id));
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))!.State == JobState.Cancelled, what: "first claim cancelled");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!payloads.Any(p => p.StartsWith("c:", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await listener.WaitAsync(TimeSpan.FromSeconds(1));
        }

        var lateCancel = Assert.Single(payloads, p => p.StartsWith("c:", StringComparison.Ordinal));

        // The user reruns the cancelled job: a new claim on the same worker.
        await q.Queue.CleanupAsync(new CleanupOptions { CancelledJobs = CleanupAction.Rerun });
        await secondStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The first claim's cancel arrives now (replayed exactly as the server sent it), followed by a real cancel of a
        // probe job running on the same worker.
        var probe = await q.Queue.PushAsync(new ValueJob(2));
        await probeStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await using (var notify = q.DataSource.CreateCommand("SELECT pg_notify($1, $2)"))
        {
            notify.Parameters.Add(new NpgsqlParameter { Value = PostgresNotifier.ChannelName("jobs_test", queueName) });
            notify.Parameters.Add(new NpgsqlParameter { Value = lateCancel });
            await notify.ExecuteNonQueryAsync();
        }

        Assert.True(await q.Queue.CancelAsync(probe));
        await probeCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Notifications are handled in order: the late one was handled before the probe's. The second claim still runs.
        secondRelease.TrySetResult();
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))!.State is JobState.Completed or JobState.Cancelled,
            what: "second claim finished");
        Assert.False(secondSawCancel, "a cancel meant for the first claim cancelled the second claim");
        Assert.Equal(JobState.Completed, (await q.Queue.GetJobAsync(id))!.State);
        Assert.Equal(2, runs);
    }
}
