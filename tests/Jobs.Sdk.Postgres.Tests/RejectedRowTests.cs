namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The database rejects one job's outcome whatever its error text (a trigger, a policy or a constraint an operator
/// added fails on that row): the worker must go on recording every other job's outcome, and leave that job to the
/// lease rescue instead of retrying it ahead of all the others forever.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RejectedRowTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_row_the_database_rejects_does_not_block_the_outcomes_of_later_jobs()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        var poisonRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            if (job.Value == 0)
            {
                poisonRan.TrySetResult();
            }

            return Task.CompletedTask;
        }), driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes });
        var poison = await q.Queue.PushAsync(new ValueJob(0));
        await direct.ExecAsync($"""
            CREATE FUNCTION public.reject_{suffix}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'audit trigger: row % is locked by compliance', OLD.id; END $$;
            CREATE TRIGGER reject_{suffix} BEFORE UPDATE OF state OR DELETE ON jobs_test.jobs
                FOR EACH ROW WHEN (OLD.id = '{poison.Value}' AND OLD.state = {(int)JobState.Processing}) EXECUTE FUNCTION public.reject_{suffix}();
            """);
        try
        {
            await q.StartAsync();
            await poisonRan.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var others = new List<JobId>();
            for (var i = 1; i <= 4; i++)
            {
                others.Add(await q.Queue.PushAsync(new ValueJob(i)));
            }

            await TestExtensions.EventuallyAsync(async () =>
            {
                foreach (var id in others)
                {
                    if ((await q.Queue.GetJobAsync(id))?.State != JobState.Completed)
                    {
                        return false;
                    }
                }

                return true;
            }, seconds: 60, what: "the later jobs' outcomes are recorded while the database rejects one job's outcome");
        }
        finally
        {
            await direct.ExecAsync($"DROP TRIGGER reject_{suffix} ON jobs_test.jobs; DROP FUNCTION public.reject_{suffix}();");
        }

        await q.StopAsync();
    }
}
