using Jobs.Sdk.Drivers;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// What operators run over and over with the same text (the dashboard's live poll every <c>LiveInterval</c>, its job lists,
/// counts and dry runs, <c>CancelAsync</c>) is prepared by Npgsql when the data source sets its automatic preparation
/// (<c>Max Auto Prepare</c>), and PostgreSQL may then switch it to a generic plan built on the table's statistics of that
/// moment, kept until the table is analyzed again: built while they said the table was small (a young queue), its optional
/// filters, <c>ANY</c> arrays and keyset cursors may read the whole table at every call once the queue has grown.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AdminReadPlanTests(PostgresFixture fixture)
{
    /// <summary>Each operator read or action, run on one auto-preparing session beside the same grown table.</summary>
    private static readonly string[] Operations =
    [
        "live-poll", "queue-page", "queue-list", "schedule-page", "list", "list-queue", "list-state", "list-states", "list-name", "list-payload", "list-next-page",
        "admin-get", "counts", "preview", "admin-cancel", "admin-delete", "admin-retry", "admin-run-now", "admin-priority", "cancel",
    ];

    [Theory]
    [InlineData(true)] // Max Auto Prepare=64;Auto Prepare Min Usages=2 on the data source
    [InlineData(false)] // what the driver prepares itself
    public async Task Operator_reads_planned_on_a_young_queue_never_read_the_grown_jobs_table_with_a_sequential_scan(bool autoPrepare)
    {
        const int Young = 16;
        const int Settle = 12;
        const int Grown = 50_000;
        const int Calls = 12;
        var schema = "adminplan_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        // One pooled connection: every call runs on the same server session, which prepares what runs twice.
        await using var ds = PlanTestSessions.OneSession(fixture, autoPrepare);
        try
        {
            await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask),
                driver: o => o.Schema = schema, dataSource: ds);
            var admin = PostgresJobAdmin.Create(ds, new PostgresJobDriverOptions { Schema = schema });
            var queue = q.Queue.QueueName;
            var cursor = (string?)null;
            async Task CallAsync(string operation)
            {
                switch (operation)
                {
                    case "live-poll": // what DashboardSnapshotSource reads at every poll
                        await admin.GetQueueOverviewAsync(50);
                        await admin.GetWorkersAsync();
                        await admin.GetReadOnlyReasonAsync();
                        await admin.GetThroughputAsync(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow);
                        break;
                    case "queue-page":
                        await admin.GetQueuesAsync(50, null);
                        break;
                    case "queue-list":
                        await admin.GetQueuesAsync();
                        break;
                    case "schedule-page":
                        await admin.GetSchedulesAsync(50, null);
                        break;
                    case "list":
                        await admin.ListJobsAsync(new JobQuery { Limit = 50 });
                        break;
                    case "list-queue":
                        await admin.ListJobsAsync(new JobQuery { Queue = queue, Limit = 50 });
                        break;
                    case "list-state":
                        await admin.ListJobsAsync(new JobQuery { Queue = queue, States = [JobState.Failed], Limit = 50 });
                        break;
                    case "list-states":
                        await admin.ListJobsAsync(new JobQuery { States = [JobState.Pending, JobState.Failed], Limit = 50 });
                        break;
                    case "list-name":
                        await admin.ListJobsAsync(new JobQuery { Queue = queue, Names = [MessageJob.JobName], Limit = 50 });
                        break;
                    case "list-payload":
                        await admin.ListJobsAsync(new JobQuery { Queue = queue, PayloadContains = """{"message":"needle"}""", Limit = 50 });
                        break;
                    case "list-next-page":
                        cursor ??= (await admin.ListJobsAsync(new JobQuery { Queue = queue, Limit = 2 })).NextCursor;
                        await admin.ListJobsAsync(new JobQuery { Queue = queue, Limit = 50, Cursor = cursor });
                        break;
                    case "admin-get":
                        await admin.GetJobAsync(JobId.New());
                        break;
                    case "counts":
                        await q.Queue.GetCountsAsync();
                        break;
                    case "preview": // the dry run's count of a filter: its ids, then the action's conditions on them
                        await admin.PreviewAsync(JobSelection.Matching(new JobQuery { Queue = queue, States = [JobState.Pending] }),
                            new JobAdminAction(JobAdminActionKind.Cancel));
                        break;
                    case var action when AdminIdActions.Names(action):
                        await AdminIdActions.RunAsync(admin, action, JobId.New());
                        break;
                    default:
                        await q.Queue.CancelAsync(JobId.New());
                        break;
                }
            }

            // A young queue: a few jobs, the table analyzed at that size (as autovacuum does after its first changed rows),
            // and enough calls for the session to settle on a plan. Autovacuum is then kept away, as it is until its next
            // pass while the queue grows (by finished jobs: the runnable ones stay few).
            for (var i = 0; i < Young; i++)
            {
                await q.Queue.PushAsync(new MessageJob(i, "young"));
            }

            await direct.ExecAsync($"ALTER TABLE {schema}.jobs SET (autovacuum_enabled = false); ANALYZE {schema}.jobs");
            foreach (var operation in Operations)
            {
                for (var i = 0; i < Settle; i++)
                {
                    await CallAsync(operation);
                }
            }

            await direct.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, finished_at)
                SELECT gen_random_uuid(), '{queue}', '{MessageJob.JobName}', jsonb_build_object('id', g), {(short)JobState.Completed}, now() FROM generate_series(1, {Grown}) g
                """);
            // Each operation's sequential reads of the table (the session sends its statistics before each reading).
            var seqReads = new List<string>();
            foreach (var operation in Operations)
            {
                var before = await JobsTableSeqReads.ReadAsync(direct, schema, Young + Grown, ds);
                for (var i = 0; i < Calls; i++)
                {
                    await CallAsync(operation);
                }

                var after = await JobsTableSeqReads.ReadAsync(direct, schema, Young + Grown, ds);
                if (after.Rows - before.Rows >= Grown)
                {
                    seqReads.Add($"{operation}: {after.Rows - before.Rows:N0} rows in {after.Scans - before.Scans} sequential scans");
                }
            }

            var prepared = await PlanTestSessions.PreparedRunsAsync(ds, $"%{schema}%");
            Assert.True(seqReads.Count == 0,
                $"{Calls} calls of each operator read (auto-prepare: {autoPrepare}) on a table of {Grown:N0} jobs read it sequentially: {string.Join("; ", seqReads)} " +
                $"(prepared statements of the session: {prepared})");
            // The scenario holds: with automatic preparation, Npgsql prepared the calls on its own, and some ran generic plans.
            Assert.True(!autoPrepare || prepared.Generic > 0, $"Npgsql prepared none of the calls, or PostgreSQL ran none of them with a generic plan ({prepared})");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
