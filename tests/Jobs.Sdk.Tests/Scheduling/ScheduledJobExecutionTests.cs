using System.Text;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using static Jobs.Sdk.Tests.Scheduling.Times;

namespace Jobs.Sdk.Tests.Scheduling;

/// <summary>Scheduled jobs run by real workers: the context they see, and the built-in cleanup job.</summary>
public sealed class ScheduledJobExecutionTests
{
    private sealed class CompletionSignal : IJobMiddleware
    {
        private readonly TaskCompletionSource<JobCompletedContext> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly string _prefix;

        public CompletionSignal(string prefix) => _prefix = prefix;

        public Task<JobCompletedContext> Completed => _done.Task.WaitAsync(TimeSpan.FromSeconds(30));

        public ValueTask OnCompletedAsync(JobCompletedContext context, CancellationToken cancellationToken)
        {
            if (context.JobName.StartsWith(_prefix, StringComparison.Ordinal))
            {
                _done.TrySetResult(context);
            }

            return default;
        }
    }

    private sealed class Host : IAsyncDisposable
    {
        public Host(FakeTimeProvider time, Action<JobsBuilder> configure, Func<InMemoryJobDriver, IJobDriver>? wrap = null, string queue = "default")
        {
            var services = new ServiceCollection();
            services.AddSingleton<TimeProvider>(time);
            Driver = new InMemoryJobDriver(new InMemoryJobDriverOptions { QueueName = queue, Retention = new RetentionPolicy { CompletedJobs = Retain.Yes } }, time);
            var driver = wrap?.Invoke(Driver) ?? Driver;
            services.AddJobs(jobs =>
            {
                // A lease far longer than the tests' 30 s clock jumps: a claim the worker sent just before a jump would
                // otherwise find its local lease over and drop its job unstarted (log 1012), as it must after a real 30 s.
                jobs.UseDriver(_ => driver).AddWorkers(o => o.LeaseDuration = TimeSpan.FromMinutes(10));
                configure(jobs);
            });
            Provider = services.BuildServiceProvider();
            Scheduler = Provider.GetRequiredService<JobScheduler>();
            Probe.Attach(Scheduler);
            Time = time;
        }

        public InMemoryJobDriver Driver { get; }
        public ServiceProvider Provider { get; }
        public JobScheduler Scheduler { get; }
        public SchedulerProbe Probe { get; } = new();
        public FakeTimeProvider Time { get; }
        public JobQueue Queue => Provider.GetRequiredService<JobQueue>();

        public async Task StartAsync()
        {
            foreach (var service in Provider.GetServices<IHostedService>())
            {
                await service.StartAsync(CancellationToken.None);
            }

            await Probe.SettledAsync(Provider.GetRequiredService<JobSchedule>().Entries.Select(e => e.Key), Time.GetUtcNow());
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var service in Provider.GetServices<IHostedService>().Reverse())
            {
                await service.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            }

            await Provider.DisposeAsync();
        }

        /// <summary>Leaves one completed Ping job in the queue (claimed and completed by hand).</summary>
        public async Task<JobId> SeedCompletedJobAsync()
        {
            var id = await Queue.PushAsync(new Ping("seed"));
            var claimed = await Driver.ClaimAsync(new JobClaimRequest("seed", 1, TimeSpan.FromMinutes(1)), default);
            Assert.Equal(id, Assert.Single(claimed).Id);
            await Driver.CompleteAsync("seed", [new JobOutcome(id, JobOutcomeKind.Completed, 1, LeaseToken: claimed[0].LeaseToken)], default);
            Assert.Equal(JobState.Completed, (await Driver.GetJobAsync(id, default))!.State);
            return id;
        }
    }

    [Fact]
    public async Task The_handler_sees_the_scheduled_time_and_the_next_one()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 59, 30));
        var seen = new TaskCompletionSource<JobContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = new Host(time, jobs => jobs
            .AddJob<Ping>((_, ctx, _) =>
            {
                seen.TrySetResult(ctx);
                return Task.CompletedTask;
            })
            .AddSchedule(s => s.Add(new Ping("tick"), Schedule.Hourly())));
        await host.StartAsync();

        time.Advance(TimeSpan.FromSeconds(30));
        var context = await seen.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Utc(2026, 1, 1, 11, 0), context.ScheduledAt);
        Assert.Equal(Utc(2026, 1, 1, 12, 0), context.NextScheduledAt);
        Assert.Equal("test.ping@hourly at minute 0 UTC", context.Headers[JobHeaders.ScheduleEntry]);
        Assert.Equal("test.ping", context.Name);
    }

    [Fact]
    public async Task Cleanup_job_cleans_only_its_own_queue()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 59, 30));
        var doneA = new CompletionSignal("jobs.cleanup");
        await using var a = new Host(time, jobs => jobs
            .AddJob<Ping>((_, _, _) => Task.CompletedTask)
            .AddMiddleware(doneA)
            .AddSchedule(s => s.AddCleanup(new CleanupOptions { CompletedJobs = CleanupAction.Remove }, Schedule.Hourly())), queue: "queue-a");
        await using var b = new Host(time, jobs => jobs
            .AddJob<Ping>((_, _, _) => Task.CompletedTask)
            .AddSchedule(s => s.AddCleanup(new CleanupOptions { CompletedJobs = CleanupAction.Remove }, Schedule.Daily())), queue: "queue-b");
        var seedA = await a.SeedCompletedJobAsync();
        var seedB = await b.SeedCompletedJobAsync();
        await a.StartAsync();
        await b.StartAsync();

        time.Advance(TimeSpan.FromSeconds(30)); // 11:00: queue-a's hourly cleanup falls due, queue-b's daily one does not
        var completed = await doneA.Completed;
        Assert.Equal("jobs.cleanup:queue-a", completed.JobName);
        Assert.Equal(JobOutcomeKind.Completed, completed.Outcome);
        Assert.Equal(1, completed.Attempt);

        Assert.Null(await a.Driver.GetJobAsync(seedA, default));
        Assert.Equal(JobState.Completed, (await b.Driver.GetJobAsync(seedB, default))!.State);
        Assert.True(a.Provider.GetRequiredService<JobRegistry>().TryGet("jobs.cleanup:queue-a", out _));
        Assert.True(b.Provider.GetRequiredService<JobRegistry>().TryGet("jobs.cleanup:queue-b", out _));
        Assert.False(a.Provider.GetRequiredService<JobRegistry>().TryGet("jobs.cleanup:queue-b", out _));
    }

    [Fact]
    public async Task A_failing_cleanup_job_is_not_retried()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 59, 30));
        var done = new CompletionSignal("jobs.cleanup");
        FlakyStoreDriver? store = null;
        await using var host = new Host(time, jobs => jobs
            .AddMiddleware(done)
            .AddSchedule(s => s.AddCleanup(new CleanupOptions { FailedJobs = CleanupAction.Remove }, Schedule.Hourly())),
            wrap: inner => store = new FlakyStoreDriver(inner, 0, 0) { CleanupError = new InvalidOperationException("cleanup broke") });
        await host.StartAsync();

        time.Advance(TimeSpan.FromSeconds(30));
        var completed = await done.Completed;
        Assert.Equal(JobOutcomeKind.Failed, completed.Outcome);
        Assert.Equal(1, completed.Attempt);
        Assert.NotNull(store);
    }

    [Fact]
    public void Cleanup_record_is_named_per_queue_with_a_single_attempt()
    {
        var schedule = new JobSchedule().AddCleanup(new CleanupOptions { CompletedJobs = CleanupAction.Remove }, Schedule.Daily());
        var runtime = new JobsRuntime(new InMemoryJobDriver(new InMemoryJobDriverOptions { QueueName = "reports" }), new JobRegistry([]), new JobQueueOptions(),
            TimeProvider.System, []);
        var record = schedule.Entries[0].CreateRecord(runtime, JobOptions.Default, new Dictionary<string, string>());
        Assert.Equal("jobs.cleanup:reports", record.Name);
        Assert.Equal(1, record.MaxAttempts);
        Assert.Equal("jobs.cleanup@daily at 00:00 UTC", schedule.Entries[0].Key);
        Assert.Same(JobRetryStrategy.None, CleanupJobDefinition.Create(runtime.Driver).RetryStrategy);
    }

    [Fact]
    public void Cleanup_options_round_trip_through_the_hand_written_serializer()
    {
        var options = new CleanupOptions
        {
            PendingJobs = CleanupAction.DoNothing,
            RetryingJobs = CleanupAction.Rerun,
            CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(7)),
            FailedJobs = CleanupAction.Rerun,
            CancelledJobs = CleanupAction.Remove,
            PausedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromMinutes(90.5)),
        };
        var json = JobSerializer.Serialize(new CleanupJob(options));
        Assert.Equal(
            """{"retrying":{"action":"rerun"},"completed":{"action":"remove","maxAge":"7.00:00:00"},"failed":{"action":"rerun"},"cancelled":{"action":"remove"},"paused":{"action":"remove","maxAge":"01:30:30"}}""",
            Encoding.UTF8.GetString(json));
        Assert.Equal(options, CleanupJob.Deserialize(json).Options);
        Assert.Equal(new CleanupOptions(), CleanupJob.Deserialize("{}"u8).Options);
    }

    [Fact]
    public void Cleanup_payload_skips_unknown_states_and_reports_bad_or_unknown_action_members()
    {
        // An unknown state is skipped (the pass does less); an unknown member of an action may narrow it, so the job fails.
        var options = CleanupJob.Deserialize("""{"v":2,"completed":{"action":"remove"},"future":{"a":1}}"""u8).Options;
        Assert.Equal(CleanupAction.Remove, options.CompletedJobs);
        var extra = Assert.Throws<JobDecodeException>(() => CleanupJob.Deserialize("""{"completed":{"action":"remove","extra":[1,{"x":1}]}}"""u8));
        Assert.Equal("$.completed.extra", extra.Path);

        var ex = Assert.Throws<JobDecodeException>(() => CleanupJob.Deserialize("""{"failed":{"action":"explode"}}"""u8));
        Assert.Equal("failed", ex.Member);
        Assert.Throws<JobDecodeException>(() => CleanupJob.Deserialize("""{"failed":{"action":"remove","maxAge":"soon"}}"""u8));
        Assert.Throws<JobDecodeException>(() => CleanupJob.Deserialize("""[]"""u8));
    }
}
