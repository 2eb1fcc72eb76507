using Jobs.Sdk.Drivers;
using Jobs.Sdk.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The calls of <see cref="GenericPlanSweepTests"/>: each one runs the driver's or the admin store's statements on the jobs
/// table of one hot or operator path, through the product's API, as workers, producers, schedulers and operators do.
/// </summary>
internal sealed class SweepCalls(TestQueue q, JobAdmin admin, NpgsqlDataSource ds)
{
    /// <summary>Every call, by name (the order they run in).</summary>
    public static readonly string[] Operations =
    [
        "push", "push-many", "push-tx", "push-keyed", "push-keyed-many", "push-keyed-tx",
        "push-unique", "push-unique-held", "push-unique-many", "push-unique-tx",
        "claim-complete", "claim-fail", "claim-retry", "claim-reschedule", "claim-release", "claim-cancelled", "claim-named",
        "claim-global", "claim-rate-limited", "renew", "cancel-running", "rescue",
        "cancel", "pause-resume", "get", "waiting-names", "is-paused", "counts", "counts-by-name",
        "cleanup-remove-older", "cleanup-rerun", "cleanup-processing", "cleanup-count",
        "fire", "fire-unique", "fire-held",
        "live-poll", "list", "list-queue", "list-state", "list-states", "list-name", "list-payload", "list-next-page",
        "admin-get", "preview", "admin-cancel", "admin-delete", "admin-retry", "admin-run-now", "admin-priority",
    ];

    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private readonly PostgresJobDriver _driver = q.Driver;

    private int _n;

    private DateTimeOffset _fire = DateTimeOffset.UtcNow;

    private JobLease _held;

    private string? _cursor;

    /// <summary>Claims the job whose lease <c>renew</c> extends.</summary>
    public async Task StartAsync() => _held = await ClaimOneAsync(Hour) is { } held ? new JobLease(held.Id, held.LeaseToken) : throw new InvalidOperationException("nothing to claim");

    public async Task CallAsync(string operation)
    {
        var n = ++_n;
        var queue = q.Queue;
        switch (operation)
        {
            case "push":
                await queue.PushAsync(new MessageJob(n, "push"));
                break;
            case "push-many":
                await queue.PushManyAsync([new MessageJob(n, "many"), new MessageJob(n, "many")]);
                break;
            case "push-tx":
                await InTransactionAsync(tx => queue.PushAsync(new MessageJob(n, "tx"), tx));
                break;
            case "push-keyed":
                await queue.PushAsync(new KeyedRecordJob(n * 1000));
                break;
            case "push-keyed-many":
                await queue.PushManyAsync([new KeyedRecordJob(n * 1000), new KeyedRecordJob(n * 1000 + 1)]);
                break;
            case "push-keyed-tx":
                await InTransactionAsync(tx => queue.PushAsync(new KeyedRecordJob(n * 1000), tx));
                break;
            case "push-unique":
                await queue.TryPushAsync(new UniqueValueJob(n));
                break;
            case "push-unique-held":
                await queue.TryPushAsync(new UniqueValueJob(-1));
                break;
            case "push-unique-many":
                await queue.TryPushManyAsync([new UniqueValueJob(n), new UniqueValueJob(-1)]);
                break;
            case "push-unique-tx":
                await InTransactionAsync(tx => queue.TryPushAsync(new UniqueValueJob(n), tx));
                break;
            case "claim-complete":
                await ClaimAndEndAsync(n, JobOutcomeKind.Completed);
                break;
            case "claim-fail":
                await ClaimAndEndAsync(n, JobOutcomeKind.Failed);
                break;
            case "claim-retry":
                await ClaimAndEndAsync(n, JobOutcomeKind.Retry);
                break;
            case "claim-reschedule":
                await ClaimAndEndAsync(n, JobOutcomeKind.Reschedule);
                break;
            case "claim-release":
                await ClaimAndEndAsync(n, JobOutcomeKind.Release);
                break;
            case "claim-cancelled":
                await ClaimAndEndAsync(n, JobOutcomeKind.Cancelled);
                break;
            case "claim-named":
                await queue.PushAsync(new MessageJob(n, "named"));
                await EndAsync(await _driver.ClaimAsync(new JobClaimRequest("sweep", 1, Hour) { JobNames = [MessageJob.JobName] }, default), JobOutcomeKind.Completed);
                break;
            case "claim-global":
                await queue.PushAsync(new MessageJob(n, "global"));
                await EndAsync(await _driver.ClaimAsync(new JobClaimRequest("sweep", 1, Hour) { GlobalConcurrency = 1_000 }, default), JobOutcomeKind.Completed);
                break;
            case "claim-rate-limited":
                await queue.PushAsync(new MessageJob(n, "limited"));
                await EndAsync((await _driver.ClaimRateLimitedAsync(new JobClaimRequest("sweep", 1, Hour) { RateLimit = RateLimit.PerSecond(1_000_000) }, default)).Jobs,
                    JobOutcomeKind.Completed);
                break;
            case "renew":
                await _driver.RenewLeasesAsync("sweep", [_held], Hour, default);
                break;
            case "cancel-running":
                var running = await ClaimOneAsync(Hour, n);
                await queue.CancelAsync(running.Id);
                await EndAsync([running], JobOutcomeKind.Cancelled);
                break;
            case "rescue":
                await ClaimOneAsync(TimeSpan.FromMilliseconds(1), n); // rescued by this pass or a later one, when its lease ran out
                await _driver.RescueExpiredLeasesAsync(default);
                break;
            case "cancel":
                await queue.CancelAsync(await queue.PushAsync(new MessageJob(n, "cancel")));
                break;
            case "pause-resume":
                var paused = await queue.PushAsync(new MessageJob(n, "pause"));
                await queue.PauseAsync(paused);
                await queue.ResumeAsync(paused);
                break;
            case "get":
                await queue.GetJobAsync(_held.Id);
                break;
            case "waiting-names":
                await _driver.GetWaitingNamesAsync(TimeSpan.Zero, default);
                break;
            case "is-paused":
                await _driver.IsQueuePausedAsync(default);
                break;
            case "counts":
                await queue.GetCountsAsync();
                break;
            case "counts-by-name":
                await queue.GetCountsByNameAsync();
                break;
            case "cleanup-remove-older":
                await queue.CleanupAsync(new CleanupOptions
                {
                    CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1)), FailedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1)),
                    CancelledJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1)), PausedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1)),
                });
                break;
            case "cleanup-rerun":
                await queue.CleanupAsync(new CleanupOptions { FailedJobs = CleanupAction.Rerun, CancelledJobs = CleanupAction.Rerun });
                break;
            case "cleanup-processing":
                await queue.CleanupAsync(new CleanupOptions
                {
                    ProcessingJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1)), RetryingJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1)),
                });
                break;
            case "cleanup-count":
                await _driver.CountCleanupAsync(new CleanupOptions { CompletedJobs = CleanupAction.Remove, FailedJobs = CleanupAction.Rerun }, default);
                break;
            case "fire":
                await FireAsync(null);
                break;
            case "fire-unique":
                await FireAsync($"fire-{n}");
                break;
            case "fire-held":
                await FireAsync("fire-held");
                break;
            case "live-poll": // what DashboardSnapshotSource reads at every poll
                await admin.GetQueueOverviewAsync(50);
                await admin.GetWorkersAsync();
                await admin.GetThroughputAsync(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow);
                break;
            case "list":
                await admin.ListJobsAsync(new JobQuery { Limit = 50 });
                break;
            case "list-queue":
                await admin.ListJobsAsync(new JobQuery { Queue = queue.QueueName, Limit = 50 });
                break;
            case "list-state":
                await admin.ListJobsAsync(new JobQuery { Queue = queue.QueueName, States = [JobState.Failed], Limit = 50 });
                break;
            case "list-states":
                await admin.ListJobsAsync(new JobQuery { States = [JobState.Pending, JobState.Failed], Limit = 50 });
                break;
            case "list-name":
                await admin.ListJobsAsync(new JobQuery { Queue = queue.QueueName, Names = [MessageJob.JobName], Limit = 50 });
                break;
            case "list-payload":
                await admin.ListJobsAsync(new JobQuery { Queue = queue.QueueName, PayloadContains = """{"message":"needle"}""", Limit = 50 });
                break;
            case "list-next-page":
                _cursor ??= (await admin.ListJobsAsync(new JobQuery { Queue = queue.QueueName, Limit = 2 })).NextCursor;
                await admin.ListJobsAsync(new JobQuery { Queue = queue.QueueName, Limit = 50, Cursor = _cursor });
                break;
            case "admin-get":
                await admin.GetJobAsync(_held.Id);
                break;
            case "preview":
                await admin.PreviewAsync(JobSelection.Matching(new JobQuery { Queue = queue.QueueName, States = [JobState.Paused] }),
                    new JobAdminAction(JobAdminActionKind.Cancel));
                break;
            case var action when AdminIdActions.Names(action):
                // cancel and delete act on a job just pushed; the others on an id no job has
                await AdminIdActions.RunAsync(admin, action, action is "admin-cancel" or "admin-delete"
                    ? await queue.PushAsync(new MessageJob(n, action))
                    : JobId.New());
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, "no such call");
        }
    }

    /// <summary>Pushes a job, claims one (the oldest due), and ends its attempt with <paramref name="kind"/>.</summary>
    private async Task ClaimAndEndAsync(int n, JobOutcomeKind kind) => await EndAsync([await ClaimOneAsync(Hour, n)], kind);

    /// <summary>Claims one job (pushing one first when <paramref name="n"/> is given).</summary>
    private async Task<ClaimedJob> ClaimOneAsync(TimeSpan lease, int? n = null)
    {
        if (n is { } push)
        {
            await q.Queue.PushAsync(new MessageJob(push, "claim"));
        }

        var claimed = await _driver.ClaimAsync(new JobClaimRequest("sweep", 1, lease), default);
        return Assert.Single(claimed);
    }

    private Task EndAsync(IReadOnlyList<ClaimedJob> claimed, JobOutcomeKind kind)
        => _driver.CompleteAsync("sweep", [.. claimed.Select(c => new JobOutcome(c.Id, kind, c.Attempt, Delay: Hour, NextAttempt: c.Attempt + 1, Error: "sweep",
            LeaseToken: c.LeaseToken) { RunAt = DateTimeOffset.UtcNow.Add(Hour) })], default);

    private Task<ScheduledFireResult> FireAsync(string? uniqueKey)
    {
        _fire = _fire.AddMinutes(1);
        var job = new JobPushRecord
        {
            Id = JobId.New(), Name = MessageJob.JobName, Payload = "{\"id\":1,\"message\":\"fire\"}"u8.ToArray(), UniqueKey = uniqueKey, RunAt = DateTimeOffset.UtcNow,
        };
        return ((IJobScheduleStore)_driver).PushScheduledAsync("sweep", _fire, job, default);
    }

    private async Task InTransactionAsync(Func<NpgsqlTransaction, Task> push)
    {
        await using var connection = await ds.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await push(transaction);
        await transaction.CommitAsync();
    }
}
