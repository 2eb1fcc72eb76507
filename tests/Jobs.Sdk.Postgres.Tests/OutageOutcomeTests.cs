namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The store refuses the outcome writer's first attempts because it is away (read-only during a failover), and takes
/// writes again a moment later. The writer's last resort for a row the store rejects (write it once more with a
/// replacement error text) is for rows the store refuses, not for an outage: the job's real error must be recorded.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OutageOutcomeTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_failed_job_whose_outcome_met_a_short_outage_keeps_its_real_error()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await using var q = await TestQueue.CreateAsync(fixture,
            b => b.AddJob<ValueJob>((job, _, _) => throw new InvalidOperationException($"the real error of job {job.Value}")),
            driver: o => o.Retention = new RetentionPolicy { FailedJobs = Retain.Yes });
        var id = await q.Queue.PushAsync(new ValueJob(7), new JobOptions { MaxAttempts = 1 });
        // The server refuses the first three writes of this job's outcome as a read-only server does (25006), then takes them:
        // the outage ends between two of the writer's attempts.
        await direct.ExecAsync($"""
            CREATE SEQUENCE public.outage_{suffix};
            CREATE FUNCTION public.outage_{suffix}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('public.outage_{suffix}') <= 3 THEN
                    RAISE EXCEPTION 'cannot execute UPDATE in a read-only transaction' USING ERRCODE = 'read_only_sql_transaction';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER outage_{suffix} BEFORE UPDATE OF state ON jobs_test.jobs
                FOR EACH ROW WHEN (OLD.id = '{id.Value}' AND OLD.state = {(int)JobState.Processing}) EXECUTE FUNCTION public.outage_{suffix}();
            """);
        try
        {
            await q.StartAsync();
            await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Failed, seconds: 60,
                what: "the job's failure is recorded");
        }
        finally
        {
            await direct.ExecAsync($"DROP TRIGGER outage_{suffix} ON jobs_test.jobs; DROP FUNCTION public.outage_{suffix}(); DROP SEQUENCE public.outage_{suffix};");
        }

        await q.StopAsync();
        var job = await q.Queue.GetJobAsync(id);
        Assert.Contains("the real error of job 7", job!.LastError, StringComparison.Ordinal);
    }
}
