using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Start-up: a starting worker runs its first lease rescue after its first claim returned, not beside it (beside it, the
/// rescue takes a second connection while the first claim waits for one, and the first job starts later); and that
/// first rescue still requeues at once what a dead worker left behind.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StartupRescueTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public async Task A_starting_worker_sends_its_first_rescue_only_after_its_first_claim_returned()
    {
        // Every claim and rescue the worker's data source runs is traced; its span starts when the statement is sent and
        // stops when its results were read (before the call that sent it returns). The events are recorded in order.
        var schema = PostgresIdentifier.Quote("jobs_test");
        var claimSql = JobSql.Claim.Replace("{s}", schema, StringComparison.Ordinal);
        var rescueSql = JobSql.RescueExpired.Replace("{s}", schema, StringComparison.Ordinal);
        var span = "startup-" + Guid.NewGuid().ToString("N")[..8] + ":";
        var events = new ConcurrentQueue<string>();
        var rescued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var tracing = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = a =>
            {
                if (a.DisplayName.StartsWith(span, StringComparison.Ordinal))
                {
                    events.Enqueue("start " + a.DisplayName[span.Length..]);
                }
            },
            ActivityStopped = a =>
            {
                if (a.DisplayName.StartsWith(span, StringComparison.Ordinal))
                {
                    events.Enqueue("stop " + a.DisplayName[span.Length..]);
                    if (a.DisplayName.EndsWith("rescue", StringComparison.Ordinal))
                    {
                        rescued.TrySetResult();
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(tracing);
        var builder = new NpgsqlSlimDataSourceBuilder(fixture.ConnectionString);
        builder.EnableArrays();
        builder.ConfigureTracing(t => t
            .ConfigureBatchFilter(batch => Runs(batch, claimSql) || Runs(batch, rescueSql))
            .ConfigureBatchSpanNameProvider(batch => span + (Runs(batch, claimSql) ? "claim" : "rescue")));
        await using var traced = builder.Build();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), dataSource: traced,
            driver: o => o.PollInterval = Hour);

        await q.StartAsync();
        await rescued.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await q.StopAsync();

        // The first claim came back before the first rescue was sent: the two never ran side by side.
        var order = events.ToList();
        var claimReturned = order.IndexOf("stop claim");
        var rescueSent = order.IndexOf("start rescue");
        Assert.True(claimReturned >= 0 && claimReturned < rescueSent, string.Join(", ", order));
    }

    private static bool Runs(NpgsqlBatch batch, string sql) => Enumerable.Any<NpgsqlBatchCommand>(batch.BatchCommands, c => c.CommandText == sql);

    [Fact]
    public async Task An_expired_lease_left_by_a_dead_worker_is_rescued_by_a_starting_worker_and_the_job_runs_again()
    {
        var runs = new Recorder<(int Value, int Attempt)>();
        // The starting worker rescues once an hour: only its first pass, at start-up, can requeue the job in time.
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, ctx, _) =>
        {
            runs.Add((job.Value, ctx.Attempt));
            return Task.CompletedTask;
        }), driver: o =>
        {
            o.PollInterval = Hour;
            o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes };
        }, worker: o => o.RescueInterval = Hour);
        var id = await q.Queue.PushAsync(new ValueJob(7));

        // A dead worker claimed the job and its lease ran out (set in the past on the database clock, the one rescue reads).
        var claimed = await q.Driver.ClaimAsync(new Drivers.JobClaimRequest("dead-worker", 10, TimeSpan.FromSeconds(30)), CancellationToken.None);
        Assert.Equal(id, Assert.Single(claimed).Id);
        await using (var expire = q.DataSource.CreateCommand(
            "UPDATE jobs_test.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1 AND lease_expires_at IS NOT NULL"))
        {
            expire.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.Value });
            Assert.Equal(1, await expire.ExecuteNonQueryAsync());
        }

        await q.StartAsync();
        await runs.WaitForCountAsync(1);
        await q.StopAsync();

        Assert.Equal([(7, 2)], runs.Items); // rescued as its next attempt, run once by the new worker
        Assert.Equal(JobState.Completed, (await q.Queue.GetJobAsync(id))?.State);
    }
}
