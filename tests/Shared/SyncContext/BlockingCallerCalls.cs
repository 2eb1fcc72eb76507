using System.Collections.Concurrent;
using System.Data.Common;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>A generated job (its <c>Push…Async</c> methods and registration come from the source generator).</summary>
[Job("tests.sync-context-ping")]
public sealed partial record SyncContextPing(int N);

/// <summary>
/// Every public async call a user can block on, each made through a <see cref="BlockingCaller"/> (a single-threaded context
/// whose thread blocks): pushes (single, batch, unique, generated, in a transaction), per-job and per-queue operations,
/// counts, cleanup, every <see cref="JobAdmin"/> operation, worker start/stop/dispose, and a Generic Host's start, health
/// check, stop and disposal. The driver is the caller's (<see cref="JobsBuilder"/> set-up).
/// </summary>
public static class BlockingCallerCalls
{
    /// <summary>
    /// A service provider with a worker (not started): the queue's and the admin's calls on pending jobs, then the worker's
    /// start, a job run, its stop and the provider's disposal (the driver's). <paramref name="beginTransaction"/>, when the
    /// driver takes one, opens the caller's transaction for the transactional pushes (committed by this method).
    /// </summary>
    public static void QueueAdminAndWorker(BlockingCaller caller, Action<JobsBuilder> useDriver, Func<DbTransaction>? beginTransaction = null)
    {
        var runs = new JobRuns();
        var services = new ServiceCollection();
        services.AddJobs(jobs =>
        {
            useDriver(jobs);
            runs.Register(jobs).AddWorkers(o => o.Concurrency = 2);
        });
        var provider = services.BuildServiceProvider();
        try
        {
            var queue = provider.GetRequiredService<JobQueue>();
            var admin = provider.GetRequiredService<JobAdmin>();
            var ids = QueueCalls(caller, queue);
            AdminCalls(caller, admin, queue.QueueName, ids);
            if (beginTransaction is not null)
            {
                TransactionalPushes(caller, queue, beginTransaction);
            }

            var worker = provider.GetRequiredService<JobWorker>();
            caller.Wait("JobWorker.StartAsync", () => worker.StartAsync(CancellationToken.None));
            var ran = runs.WhenRan(1_000);
            caller.Wait("JobQueue.PushAsync (worker running)", () => queue.PushAsync(new ValueJob(1_000)));
            caller.Wait("the pushed job's run", () => ran);
            caller.Wait("JobWorker.StopAsync", () => worker.StopAsync(CancellationToken.None));
            caller.Wait("JobWorker.DisposeAsync", () => worker.DisposeAsync());
        }
        finally
        {
            caller.Wait("ServiceProvider.DisposeAsync (the driver's DisposeAsync)", () => provider.DisposeAsync());
        }

        caller.AssertNothingPosted("after the provider's disposal");
    }

    /// <summary>
    /// A Generic Host with workers, a schedule and the jobs health check: <c>IHost.StartAsync</c>, a push and its run, the
    /// health check, <c>IHost.StopAsync</c> and the host's <c>DisposeAsync</c>, each blocked on.
    /// </summary>
    public static void HostLifetime(BlockingCaller caller, Action<JobsBuilder> useDriver)
    {
        var runs = new JobRuns();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddJobs(jobs =>
        {
            useDriver(jobs);
            runs.Register(jobs).AddWorkers(o => o.Concurrency = 2)
                .AddSchedule(s => s.Add(new ValueJob(-1), Schedule.Yearly(month: 1, date: 1)));
        });
        builder.Services.AddHealthChecks().AddJobsHealthCheck();
        var host = builder.Build();
        try
        {
            caller.Wait("IHost.StartAsync", () => host.StartAsync());
            var queue = host.Services.GetRequiredService<JobQueue>();
            var ran = runs.WhenRan(2_000);
            caller.Wait("generated PushSyncContextPingAsync (host running)", () => queue.PushSyncContextPingAsync(2_000));
            caller.Wait("the pushed job's run", () => ran);
            var health = caller.Wait("HealthCheckService.CheckHealthAsync",
                () => host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync());
            Assert.True(health.Entries.ContainsKey("jobs"), "the jobs health check ran");
            caller.Wait("IHost.StopAsync", () => host.StopAsync());
        }
        finally
        {
            caller.Wait("IHost DisposeAsync", () => ((IAsyncDisposable)host).DisposeAsync());
        }

        caller.AssertNothingPosted("after the host's disposal");
    }

    private static List<JobId> QueueCalls(BlockingCaller caller, JobQueue queue)
    {
        var ids = new List<JobId>
        {
            caller.Wait("JobQueue.PushAsync", () => queue.PushAsync(new ValueJob(1))),
            caller.Wait("generated PushSyncContextPingAsync", () => queue.PushSyncContextPingAsync(2)),
        };
        ids.AddRange(caller.Wait("JobQueue.PushManyAsync", () => queue.PushManyAsync([new ValueJob(3), new ValueJob(4)])));
        var unique = caller.Wait("JobQueue.TryPushAsync (unique)", () => queue.TryPushAsync(new HeldValueJob(1, 5)));
        Assert.True(unique.Inserted);
        var held = caller.Wait("JobQueue.TryPushAsync (unique, key held)", () => queue.TryPushAsync(new HeldValueJob(1, 6)));
        Assert.False(held.Inserted);
        var many = caller.Wait("JobQueue.TryPushManyAsync (unique)", () => queue.TryPushManyAsync([new HeldValueJob(2, 7), new HeldValueJob(3, 8)]));
        Assert.Equal(2, many.Count);
        caller.Wait("JobQueue.PushAsync (delayed)", () => queue.PushAsync(new ValueJob(9), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddDays(1) }));

        Assert.Equal(ids[0], caller.Wait("JobQueue.GetJobAsync", () => queue.GetJobAsync(ids[0]))?.Id);
        Assert.True(caller.Wait("JobQueue.PauseAsync", () => queue.PauseAsync(ids[1])));
        Assert.True(caller.Wait("JobQueue.ResumeAsync", () => queue.ResumeAsync(ids[1])));
        Assert.True(caller.Wait("JobQueue.CancelAsync", () => queue.CancelAsync(ids[2])));
        Assert.True(caller.Wait("JobQueue.GetCountsAsync", () => queue.GetCountsAsync()).Pending > 0);
        caller.Wait("JobQueue.GetCountsAsync(queue)", () => queue.GetCountsAsync(queue.QueueName));
        Assert.NotEmpty(caller.Wait("JobQueue.GetCountsByNameAsync", () => queue.GetCountsByNameAsync()));
        Assert.Contains(caller.Wait("JobQueue.GetQueuesAsync", () => queue.GetQueuesAsync()), q => q.Name == queue.QueueName);
        Assert.True(caller.Wait("JobQueue.PauseQueueAsync", () => queue.PauseQueueAsync(queue.QueueName, "blocking caller")));
        Assert.True(caller.Wait("JobQueue.ResumeQueueAsync", () => queue.ResumeQueueAsync(queue.QueueName)));
        var cleanup = new CleanupOptions { CancelledJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1)) };
        caller.Wait("JobQueue.CleanupAsync", () => queue.CleanupAsync(cleanup));
        caller.Wait("JobQueue.CleanupAsync(queue)", () => queue.CleanupAsync(queue.QueueName, cleanup));
        return ids;
    }

    private static void AdminCalls(BlockingCaller caller, JobAdmin admin, string queueName, List<JobId> ids)
    {
        var audit = new AuditInfo("blocking-caller", "sync-context test");
        var page = caller.Wait("JobAdmin.ListJobsAsync", () => admin.ListJobsAsync(new JobQuery { Queue = queueName, Limit = 100 }));
        Assert.NotEmpty(page.Items);
        Assert.Equal(ids[0], caller.Wait("JobAdmin.GetJobAsync", () => admin.GetJobAsync(ids[0]))?.Id);
        var pending = JobSelection.Ids(ids[0]);
        caller.Wait("JobAdmin.PreviewAsync", () => admin.PreviewAsync(pending, new Jobs.Sdk.Drivers.JobAdminAction(Jobs.Sdk.Drivers.JobAdminActionKind.Cancel)));
        caller.Wait("JobAdmin.SetPriorityAsync", () => admin.SetPriorityAsync(pending, JobPriority.Higher, audit));
        caller.Wait("JobAdmin.RunNowAsync", () => admin.RunNowAsync(pending, audit));
        Assert.Equal(1, caller.Wait("JobAdmin.CancelAsync", () => admin.CancelAsync(pending, audit)));
        Assert.Equal(1, caller.Wait("JobAdmin.RetryAsync", () => admin.RetryAsync(pending, audit: audit)));
        Assert.Equal(1, caller.Wait("JobAdmin.DeleteAsync", () => admin.DeleteAsync(pending, audit)));
        caller.Wait("JobAdmin.CancelAsync (matching)", () => admin.CancelAsync(JobSelection.Matching(new JobQuery { Queue = queueName, States = [JobState.Pending] }), audit));
        Assert.Contains(caller.Wait("JobAdmin.GetQueuesAsync", () => admin.GetQueuesAsync()), q => q.Name == queueName);
        Assert.Single(caller.Wait("JobAdmin.GetQueuesAsync (a page)", () => admin.GetQueuesAsync(1, null)).Items);   // a store may hold other tests' queues
        Assert.True(caller.Wait("JobAdmin.PauseQueueAsync", () => admin.PauseQueueAsync(queueName, "blocking caller", audit)));
        Assert.True(caller.Wait("JobAdmin.ResumeQueueAsync", () => admin.ResumeQueueAsync(queueName, audit)));
        var schedules = caller.Wait("JobAdmin.GetSchedulesAsync", () => admin.GetSchedulesAsync());
        caller.Wait("JobAdmin.GetSchedulesAsync (a page)", () => admin.GetSchedulesAsync(JobQuery.MaxLimit, null));
        // An entry of its own (a queue no worker serves): an action on a key no entry has fails (ScheduleEntryNotFoundException).
        var entry = schedules.FirstOrDefault() ?? new ScheduleInfo { QueueName = "sync-context-schedules", EntryKey = "sync-context:entry", JobName = ValueJob.JobName, Schedule = "hourly" };
        if (schedules.Count == 0)
        {
            caller.Wait("IJobAdminStore.PublishSchedulesAsync", () => admin.Store.PublishSchedulesAsync([new ScheduleRegistration
            {
                QueueName = entry.QueueName, EntryKey = entry.EntryKey, JobName = entry.JobName, Description = entry.Schedule,
                Payload = "{\"value\":1}"u8.ToArray(), TimeToLive = TimeSpan.FromMinutes(10),
            }], CancellationToken.None));
        }

        caller.Wait("JobAdmin.PauseScheduleAsync", () => admin.PauseScheduleAsync(entry.QueueName, entry.EntryKey, audit));
        caller.Wait("JobAdmin.ResumeScheduleAsync", () => admin.ResumeScheduleAsync(entry.QueueName, entry.EntryKey, audit));
        caller.Wait("JobAdmin.TriggerScheduleAsync", () => admin.TriggerScheduleAsync(entry.QueueName, entry.EntryKey, audit));
        caller.Wait("JobAdmin.GetWorkersAsync", () => admin.GetWorkersAsync());
        Assert.NotEmpty(caller.Wait("JobAdmin.GetAuditLogAsync", () => admin.GetAuditLogAsync()));
        var now = caller.Wait("JobAdmin.GetStoreTimeAsync", () => admin.GetStoreTimeAsync());
        caller.Wait("JobAdmin.GetThroughputAsync", () => admin.GetThroughputAsync(now.AddHours(-1), now));
        caller.Wait("JobAdmin.GetReadOnlyReasonAsync", () => admin.GetReadOnlyReasonAsync());
    }

    private static void TransactionalPushes(BlockingCaller caller, JobQueue queue, Func<DbTransaction> beginTransaction)
    {
        using var transaction = beginTransaction();
        var id = caller.Wait("JobQueue.PushAsync (transaction)", () => queue.PushAsync(new ValueJob(11), transaction));
        caller.Wait("generated PushSyncContextPingAsync (transaction)", () => queue.PushSyncContextPingAsync(transaction, 12));
        caller.Wait("JobQueue.PushManyAsync (transaction)", () => queue.PushManyAsync([new ValueJob(13), new ValueJob(14)], transaction));
        Assert.True(caller.Wait("JobQueue.TryPushAsync (unique, transaction)", () => queue.TryPushAsync(new HeldValueJob(11, 15), transaction)).Inserted);
        caller.Wait("JobQueue.TryPushManyAsync (unique, transaction)",
            () => queue.TryPushManyAsync([new HeldValueJob(12, 16), new HeldValueJob(13, 17)], transaction));
        transaction.Commit();
        Assert.NotNull(caller.Wait("JobQueue.GetJobAsync (pushed in a transaction)", () => queue.GetJobAsync(id)));
    }

    /// <summary>Handlers for the jobs above; a test awaits the run of one value.</summary>
    private sealed class JobRuns
    {
        private readonly ConcurrentDictionary<int, TaskCompletionSource> _runs = new();

        public Task WhenRan(int value) => Run(value).Task;

        public JobsBuilder Register(JobsBuilder jobs) => jobs
            .AddJob<ValueJob>((job, _, _) => Ran(job.Value))
            .AddJob<HeldValueJob>((job, _, _) => Ran(job.Value))
            .AddSyncContextPing((job, _, _) => Ran(job.N));

        private Task Ran(int value)
        {
            Run(value).TrySetResult();
            return Task.CompletedTask;
        }

        private TaskCompletionSource Run(int value) => _runs.GetOrAdd(value, static _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
