using Jobs.Sdk.Drivers;
using Jobs.Sdk.Testing;

namespace Jobs.Sdk.Admin.Tests;

// A cancelled token stops every operation of the admin store before it reads or changes anything, on every driver (the
// PostgreSQL store throws OperationCanceledException before it sends a statement).
public abstract partial class AdminConformanceTests
{
    [Fact]
    public async Task A_cancelled_token_stops_every_admin_store_operation_before_it_changes_anything()
    {
        await using var host = await CreateHost().StartAsync();
        var store = host.Admin.Store;
        var queue = host.Queue.QueueName;
        var job = await host.Queue.PushAsync(new AdminJob(1, "c"), new JobOptions { DelayUntil = Later });
        var entryKey = "cancel-" + Guid.NewGuid().ToString("N");
        var worker = "w-cancel-" + Guid.NewGuid().ToString("N");
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var token = cts.Token;

        var operations = new (string Name, Func<Task> Run)[]
        {
            ("ListJobsAsync", () => store.ListJobsAsync(new JobQuery(), token)),
            ("FindJobIdsAsync", () => store.FindJobIdsAsync(new JobQuery(), null, 10, token)),
            ("GetJobAsync", () => store.GetJobAsync(job, token)),
            ("ApplyAsync", () => store.ApplyAsync(new JobAdminAction(JobAdminActionKind.Cancel), [job], token)),
            ("PreviewAsync", () => store.PreviewAsync(new JobAdminAction(JobAdminActionKind.Cancel), [job], token)),
            ("GetQueuesAsync", () => store.GetQueuesAsync(token)),
            ("SetQueuePausedAsync", () => store.SetQueuePausedAsync(queue, true, "r", token)),
            ("GetSchedulesAsync", () => store.GetSchedulesAsync(token)),
            ("PublishSchedulesAsync", () => store.PublishSchedulesAsync(
            [
                new ScheduleRegistration { QueueName = queue, EntryKey = entryKey, JobName = AdminJob.JobName, Description = "hourly", Payload = "{}"u8.ToArray() },
            ], token)),
            ("TriggerScheduleAsync", () => store.TriggerScheduleAsync(entryKey, JobId.New(), token)),
            ("SetSchedulePausedAsync", () => store.SetSchedulePausedAsync(entryKey, true, token)),
            ("GetWorkersAsync", () => store.GetWorkersAsync(token)),
            ("ReportWorkerAsync", () => store.ReportWorkerAsync(new WorkerHeartbeat
            {
                WorkerId = worker, Host = "h", ProcessId = 1, StartedAt = DateTimeOffset.UtcNow, Queues = [queue], JobNames = [AdminJob.JobName],
                TimeToLive = TimeSpan.FromMinutes(5),
            }, token)),
            ("RemoveWorkerAsync", () => store.RemoveWorkerAsync(worker, token)),
            ("GetThroughputAsync", () => store.GetThroughputAsync(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow, token)),
            ("AppendAuditAsync", () => store.AppendAuditAsync(new AuditEntry { At = DateTimeOffset.UtcNow, Action = "cancel-test", Target = entryKey }, token)),
            ("GetAuditLogAsync", () => store.GetAuditLogAsync(10, token)),
            ("GetStoreTimeAsync", () => store.GetStoreTimeAsync(token)),
        };
        var notCancelled = await CancelledTokenCheck.RanAnywayAsync(operations);

        Assert.True(notCancelled.Count == 0, "Ran despite the cancelled token: " + string.Join(", ", notCancelled));
        Assert.Equal(JobState.Pending, (await host.Admin.GetJobAsync(job))!.State);
        Assert.DoesNotContain(await store.GetQueuesAsync(default), q => q.Name == queue && q.IsPaused);
        Assert.DoesNotContain(await store.GetSchedulesAsync(default), s => s.EntryKey == entryKey);
        Assert.DoesNotContain(await store.GetWorkersAsync(default), w => w.WorkerId == worker);
        Assert.DoesNotContain(await store.GetAuditLogAsync(100, default), a => a.Target == entryKey);
    }
}
