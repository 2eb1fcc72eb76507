using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A host's stop, past its shutdown timeout, gives the presence service's last report and the removal of the worker's row
/// a short grace; a store call stuck past it (a dead socket ignores its token) is no longer waited for. When that call
/// fails later (Npgsql gives it up with an error), its fault must not reach <see cref="TaskScheduler.UnobservedTaskException"/>
/// (an app's error tracker) at a random GC: the row expires with its lease anyway.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PresenceLateFailureTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(LateFailingAdminStore.Call.RemoveWorker)]
    [InlineData(LateFailingAdminStore.Call.ReportThroughput)]
    public async Task A_presence_call_that_fails_after_the_stop_gave_up_on_it_leaves_no_unobserved_task_exception(LateFailingAdminStore.Call call)
    {
        using var unobserved = new UnobservedTaskFaults();
        await using var dataSource = fixture.CreateDataSource();
        LateFailingAdminStore? store = null;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.Zero);
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "latepresence_" + Guid.NewGuid().ToString("N")[..8];
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes };
            })
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers(o => o.Concurrency = 1));
        builder.Services.AddSingleton<IJobAdminStore>(sp => store = new LateFailingAdminStore(sp.GetRequiredService<PostgresJobDriver>().CreateAdminStore(), call));
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var admin = host.Services.GetRequiredService<JobAdmin>();
        var worker = host.Services.GetRequiredService<JobWorker>();
        await TestExtensions.EventuallyAsync(async () => (await admin.GetWorkersAsync()).Any(w => w.WorkerId == worker.WorkerId), 60,
            "the worker reports its presence");
        store!.Hold();
        if (call == LateFailingAdminStore.Call.ReportThroughput)
        {
            // A finished job: its minute is reported by the next report, the loop's or the stop's final one (held either way).
            var queue = host.Services.GetRequiredService<JobQueue>();
            var id = await queue.PushAsync(new ValueJob(1));
            await TestExtensions.EventuallyAsync(async () => (await queue.GetJobAsync(id))?.State == JobState.Completed, 60, "the job completed");
        }

        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(store.Entered.IsCompleted, $"the stop's {call} call was held");
        await TestExtensions.EventuallyAsync(() => Task.FromResult(store.AllAbandoned), 60, "nobody waits for the held calls any more");

        store.Fail(unobserved.NewFault($"{call} failed after the stop gave up on it"));
        await unobserved.AssertNoneReportedAsync();
    }

    /// <summary>
    /// Passes every call to the real admin store, except that once <see cref="Hold"/> is set, calls of the chosen kind wait,
    /// ignoring their token (as a call stuck on a dead socket does), until <see cref="Fail"/>, which fails them before it returns.
    /// </summary>
    public sealed class LateFailingAdminStore(IJobAdminStore inner, LateFailingAdminStore.Call call) : DelegatingAdminStore(inner)
    {
        public enum Call
        {
            RemoveWorker,
            ReportThroughput,
        }

        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _fail = new(); // continuations inline: Fail ends the held calls before it returns
        private volatile bool _hold;
        private int _held;
        private int _abandoned;

        /// <summary>Completes when a held call waits.</summary>
        public Task Entered => _entered.Task;

        /// <summary>
        /// Whether every held call's token fired and all that its caller registered on it after the call (a <c>WaitAsync</c>'s
        /// cancellation, with whatever continued inline on it) has run: the callbacks of a token run last-registered first.
        /// </summary>
        public bool AllAbandoned => Volatile.Read(ref _held) > 0 && Volatile.Read(ref _abandoned) == Volatile.Read(ref _held);

        public void Hold() => _hold = true;

        public void Fail(Exception exception) => _fail.TrySetException(exception);

        public override async Task RemoveWorkerAsync(string workerId, CancellationToken cancellationToken)
        {
            await HoldAsync(Call.RemoveWorker, cancellationToken).ConfigureAwait(false);
            await base.RemoveWorkerAsync(workerId, cancellationToken).ConfigureAwait(false);
        }

        public override async Task ReportThroughputAsync(JobThroughputReport report, CancellationToken cancellationToken)
        {
            await HoldAsync(Call.ReportThroughput, cancellationToken).ConfigureAwait(false);
            await base.ReportThroughputAsync(report, cancellationToken).ConfigureAwait(false);
        }

        private Task HoldAsync(Call kind, CancellationToken cancellationToken)
        {
            if (!_hold || kind != call)
            {
                return Task.CompletedTask;
            }

            Interlocked.Increment(ref _held);
            cancellationToken.Register(() => Interlocked.Increment(ref _abandoned));
            _entered.TrySetResult();
            return _fail.Task;
        }
    }
}
