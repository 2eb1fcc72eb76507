using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An operator deletes a running job: the row is gone at once (so are the slots it held in its key's and queue's limits),
/// so its handler must be told at once too, not at the worker's next lease renewal (a third of the lease later).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DeleteRunningJobTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Deleting_a_running_job_cancels_its_handler_token_without_waiting_for_a_lease_renewal()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, _, ct) =>
            {
                started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                finally
                {
                    stopped.TrySetResult();
                }
            }),
            worker: o => o.LeaseDuration = TimeSpan.FromHours(1)); // no renewal within the test: only the delete can stop it
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await q.StartAsync();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));

        var admin = q.Services.GetRequiredService<JobAdmin>();
        Assert.Equal(1, await admin.DeleteAsync(JobSelection.Ids(id)));

        var error = await Record.ExceptionAsync(() => stopped.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(error is null, "30 s after the delete of its running job the handler still had an uncancelled token (the next lease renewal is 20 min away).");
        Assert.Null(await q.Queue.GetJobAsync(id));
    }
}
