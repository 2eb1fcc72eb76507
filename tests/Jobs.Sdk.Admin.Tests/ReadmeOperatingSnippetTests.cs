using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Admin.Tests;

// The C# of README.md's "Operating" section, compiled and run here against PostgreSQL. Keep the region in sync with README.
[Collection(PostgresCollection.Name)]
public sealed class ReadmeOperatingSnippetTests(PostgresFixture fixture)
{
    [Fact]
    public async Task The_JobAdmin_snippet_runs_as_the_readme_shows()
    {
        var schema = "readme_" + Guid.NewGuid().ToString("N")[..8];
        await using var dataSource = PostgresJobsBuilderExtensions.CreateDataSource(fixture.ConnectionString);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs => jobs.UsePostgres(dataSource, o => { o.Schema = schema; o.QueueName = "emails"; }));
        using var host = builder.Build();
        var queue = host.Services.GetRequiredService<JobQueue>();
        var failedId = await queue.PushAsync(new AdminJob(1, "readme"), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddDays(1) });
        await using (var fail = dataSource.CreateCommand($"UPDATE \"{schema}\".jobs SET state = 4, last_error = 'X: y', name = 'send-email'"))
        {
            await fail.ExecuteNonQueryAsync();
        }

        #region operating
        var admin = host.Services.GetRequiredService<JobAdmin>();     // or PostgresJobAdmin.Create(dataSource, options) without a host

        // What failed in the emails queue, newest first, 100 per page (keyset paging: stable while jobs come and go).
        var page = await admin.ListJobsAsync(new JobQuery { Queue = "emails", States = [JobState.Failed], Limit = 100 });
        var next = await admin.ListJobsAsync(new JobQuery { Queue = "emails", States = [JobState.Failed], Limit = 100, Cursor = page.NextCursor });
        JobDetails? job = await admin.GetJobAsync(page.Items[0].Id);  // payload JSON, headers, errors, worker, lease, trace id

        // Bulk actions by ids or by query, in batches of 1,000; each returns how many jobs it changed and is audited.
        var audit = new AuditInfo(Actor: "alice", Reason: "SMTP provider back");
        int retried = await admin.RetryAsync(JobSelection.Matching(new JobQuery { Queue = "emails", States = [JobState.Failed] }), audit: audit);
        await admin.CancelAsync(JobSelection.Ids(job!.Id), audit);
        await admin.SetPriorityAsync(JobSelection.Matching(new JobQuery { Names = ["send-email"] }), JobPriority.Highest, audit);
        // Over many batches: progress after each committed batch (batches done, jobs walked, rows changed so far).
        await admin.DeleteAsync(JobSelection.Matching(new JobQuery { Queue = "reports", States = [JobState.Cancelled] }), audit,
            new Progress<JobBulkProgress>(p => Console.Error.WriteLine($"{p.RowsChanged} deleted so far, {p.BatchesDone} batches")));

        await admin.PauseQueueAsync("emails", reason: "provider outage", audit);   // every worker stops claiming it
        await admin.ResumeQueueAsync("emails", audit);
        IReadOnlyList<QueueInfo> queues = await admin.GetQueuesAsync();            // paused, counts, oldest waiting, workers
        QueuePage queuePage = await admin.GetQueuesAsync(limit: 50, cursor: null); // a page by name, and Total; pass NextCursor back
        IReadOnlyList<WorkerInfo> workers = await admin.GetWorkersAsync();         // live workers: host, pid, queues, running
        IReadOnlyList<ScheduleInfo> schedules = await admin.GetSchedulesAsync();   // entries, last and next fire, paused
        IReadOnlyList<JobThroughputMinute> minutes = await admin.GetThroughputAsync(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow); // finished per minute
        IReadOnlyList<AuditEntry> log = await admin.GetAuditLogAsync(limit: 20);
        #endregion

        Assert.Equal(failedId, page.Items.Single().Id);
        Assert.Null(page.NextCursor);                                   // one page only: a null cursor reads the first page again
        Assert.Equal(page.Items.Select(i => i.Id), next.Items.Select(i => i.Id));
        Assert.Equal(1, retried);
        Assert.Equal(JobState.Cancelled, (await admin.GetJobAsync(failedId))!.State);
        Assert.False(queues.Single().IsPaused);
        Assert.Equal(queues.Select(q => q.Name), queuePage.Items.Select(q => q.Name));
        Assert.Equal(queues.Count, queuePage.Total);
        Assert.Null(queuePage.NextCursor);
        Assert.Empty(workers);
        Assert.Empty(minutes);                                          // no worker ran here
        Assert.Empty(schedules);
        Assert.Equal(["queue.resume", "queue.pause", "delete", "set-priority:Highest", "cancel", "retry"], log.Select(e => e.Action));
        Assert.All(log, e => Assert.Equal("alice", e.Actor));
        var checkAdmin = PostgresJobAdmin.Create(dataSource, new PostgresJobDriverOptions { Schema = schema });
        Assert.Equal(6, (await checkAdmin.GetAuditLogAsync()).Count);
        await using var drop = dataSource.CreateCommand($"DROP SCHEMA \"{schema}\" CASCADE");
        await drop.ExecuteNonQueryAsync();
    }
}
