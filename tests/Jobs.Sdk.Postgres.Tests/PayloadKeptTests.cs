using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A payload is stored once, at push, and never written again: a worker reads it (skipping members its version does not
/// know) but does not re-serialize it. So a member a newer version added survives every attempt and admin action an older
/// version performs (run now, retry, a cleanup's rerun), and reaches the newer version's worker.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PayloadKeptTests(PostgresFixture fixture)
{
    private const string NewerPayload = """{"value": 1, "addedLater": {"items": [1, 2.50, "x"], "note": "é\"\\"}, "flag": true}""";

    [Fact]
    public async Task A_member_this_version_does_not_know_is_kept_through_run_now_retry_and_a_cleanup_rerun()
    {
        var seen = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            seen.Add(job.Value);
            // The first attempt fails (one attempt allowed: the job fails), the later ones complete.
            return seen.Count == 1 ? throw new InvalidOperationException("first attempt fails") : Task.CompletedTask;
        }), driver: o => o.Retention = RunningJobToRemove.KeepEverything);
        await q.StartAsync();
        var admin = q.Services.GetRequiredService<JobAdmin>();

        // A row as a newer version pushes it: delayed, with members this version's ValueJob does not have.
        var id = new JobId(Guid.CreateVersion7());
        await q.DataSource.ExecAsync(
            $"INSERT INTO jobs_test.jobs (id, queue_name, name, payload, run_at, max_attempts) VALUES ('{id.Value}', '{q.Queue.QueueName}', 'test.value', " +
            $"'{NewerPayload.Replace("'", "''", StringComparison.Ordinal)}', now() + interval '1 day', 1)");

        Assert.Equal(1, await admin.RunNowAsync(JobSelection.Ids(id)));
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Failed, 60, "run now: the attempt fails");
        await AssertPayloadKeptAsync(q, id, "running it and failing");

        Assert.Equal(1, await admin.RetryAsync(JobSelection.Ids(id)));
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Completed, 60, "retry: the attempt completes");
        await AssertPayloadKeptAsync(q, id, "an admin retry and a completed attempt");

        await q.Queue.CleanupAsync(q.Queue.QueueName, new CleanupOptions { CompletedJobs = CleanupAction.Rerun });
        await seen.WaitForCountAsync(3, 60);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Completed, 60, "rerun: the attempt completes");
        await AssertPayloadKeptAsync(q, id, "a cleanup's rerun");
        Assert.Equal([1, 1, 1], seen.Items);
    }

    /// <summary>
    /// jsonb stores a number as numeric and prints it in full (double.MaxValue as 309 digits, double.Epsilon as 324 decimals):
    /// read back, each is the value pushed, and none is taken for out of range (the readers refuse only numbers that overflow).
    /// </summary>
    [Fact]
    public async Task Extreme_float_and_double_values_come_back_from_jsonb_as_pushed()
    {
        var seen = new Recorder<ExtremeNumbers>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ExtremeNumbers>((job, _, _) =>
        {
            seen.Add(job);
            return Task.CompletedTask;
        }));
        await q.StartAsync();
        var pushed = new ExtremeNumbers([double.MaxValue, double.MinValue, double.Epsilon, -double.Epsilon, 1e-300, 0.1],
            [float.MaxValue, float.MinValue, float.Epsilon, 3.4e38f, 0.1f]);

        await q.Queue.PushAsync(pushed);
        await seen.WaitForCountAsync(1, 60);

        var read = Assert.Single(seen.Items);
        Assert.Equal(pushed.Doubles, read.Doubles);
        Assert.Equal(pushed.Floats, read.Floats);
    }

    private static async Task AssertPayloadKeptAsync(TestQueue q, JobId id, string after)
    {
        var stored = (await q.Services.GetRequiredService<JobAdmin>().GetJobAsync(id))?.Payload;
        var same = await q.DataSource.ScalarAsync(
            $"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id.Value}' AND payload = '{NewerPayload.Replace("'", "''", StringComparison.Ordinal)}'::jsonb");
        Assert.True(same == 1, $"After {after} the stored payload is {stored ?? "gone"}, not the one pushed: {NewerPayload}");
    }
}

/// <summary>Floating-point values at the edges of their types' ranges.</summary>
[Job("test.extreme-numbers")]
public sealed partial record ExtremeNumbers(double[] Doubles, float[] Floats);
