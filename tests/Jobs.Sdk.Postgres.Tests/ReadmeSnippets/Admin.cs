using Jobs.Sdk;
using Jobs.Sdk.Postgres;
using Microsoft.Extensions.DependencyInjection;

// README.md's code, compiled (ReadmeCodeBlockTests checks README shows each region verbatim): "JobAdmin". This file has
// exactly the usings README shows.
namespace ReadmeSnippets.Admin;

internal static class AdminTour
{
    // Compiled, never called.
    internal static async Task Tour(Microsoft.Extensions.Hosting.IHost host)
    {
        #region readme-admin
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
        SchedulePage entries = await admin.GetSchedulesAsync(limit: 50, cursor: null); // a page by queue and key; pass NextCursor back
        IReadOnlyList<JobThroughputMinute> minutes = await admin.GetThroughputAsync(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow); // finished per minute
        IReadOnlyList<AuditEntry> log = await admin.GetAuditLogAsync(limit: 20);
        #endregion
    }
}
