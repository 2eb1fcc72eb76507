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

    [Fact]
    public async Task An_outcome_whose_error_text_the_database_refuses_is_recorded_with_the_replacement_error()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await using var q = await TestQueue.CreateAsync(fixture,
            b => b.AddJob<ValueJob>((job, _, _) => throw new InvalidOperationException($"forbidden words of job {job.Value}")),
            driver: o => o.Retention = new RetentionPolicy { FailedJobs = Retain.Yes });
        var id = await q.Queue.PushAsync(new ValueJob(3), new JobOptions { MaxAttempts = 1 });
        // The store is up and refuses this error text (a policy), not the row: the batch and the row fail whatever the
        // number of tries, and the last resort (the replacement error text) gets the job its outcome.
        await direct.ExecAsync($"""
            CREATE FUNCTION public.refuse_{suffix}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.last_error LIKE '%forbidden words%' THEN
                    RAISE EXCEPTION 'policy: error text refused';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_{suffix} BEFORE UPDATE OF state ON jobs_test.jobs
                FOR EACH ROW WHEN (OLD.id = '{id.Value}' AND OLD.state = {(int)JobState.Processing}) EXECUTE FUNCTION public.refuse_{suffix}();
            """);
        try
        {
            await q.StartAsync();
            await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Failed, seconds: 60,
                what: "the job's failure is recorded with the replacement error");
        }
        finally
        {
            await direct.ExecAsync($"DROP TRIGGER refuse_{suffix} ON jobs_test.jobs; DROP FUNCTION public.refuse_{suffix}();");
        }

        await q.StopAsync();
        Assert.Equal(JobErrorText.Rejected, (await q.Queue.GetJobAsync(id))!.LastError);
    }
}
