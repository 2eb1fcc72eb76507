using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Admin.Tests;

/// <summary>The admin API's behaviour, identical on every driver (each subclass supplies one).</summary>
public abstract partial class AdminConformanceTests
{
    private static readonly DateTimeOffset Later = DateTimeOffset.UtcNow.AddDays(1);

    /// <summary>Configures the driver with <paramref name="retention"/>; each call gets an isolated store.</summary>
    protected abstract void UseDriver(JobsBuilder jobs, RetentionPolicy retention);

    protected AdminHost CreateHost(bool workers = false, Action<JobsBuilder>? more = null, RetentionPolicy? retention = null)
        => AdminHost.Create(jobs => UseDriver(jobs, retention ?? new RetentionPolicy()), workers, more);

    private static Task<IReadOnlyList<JobId>> PushDelayedAsync(JobQueue queue, int count, string tag = "t", int start = 0)
        => queue.PushManyAsync(Enumerable.Range(start, count).Select(i => new AdminJob(i, tag)), new JobOptions { DelayUntil = Later });

    private static async Task<List<JobSummary>> ReadAllAsync(JobAdmin admin, JobQuery query)
    {
        var all = new List<JobSummary>();
        for (var page = await admin.ListJobsAsync(query); ; page = await admin.ListJobsAsync(query with { Cursor = page.NextCursor }))
        {
            all.AddRange(page.Items);
            if (page.NextCursor is null)
            {
                return all;
            }
        }
    }

    [Fact]
    public async Task List_filters_by_state_name_payload_error_and_time()
    {
        await using var host = await CreateHost(workers: true).StartAsync();
        var queue = host.Queue;
        var admin = host.Admin;
        var delayed = await PushDelayedAsync(queue, 3, "alpha");
        var other = await queue.PushAsync(new OtherJob("hello Needle world"), new JobOptions { DelayUntil = Later });
        var failing = await queue.PushAsync(new AdminJob(-1, "beta"), new JobOptions { MaxAttempts = 1 });
        await Eventually.GetAsync(() => admin.GetJobAsync(failing), j => j?.State == JobState.Failed, "the failing job fails");

        var failed = await admin.ListJobsAsync(new JobQuery { States = [JobState.Failed] });
        Assert.Equal([failing], failed.Items.Select(i => i.Id));
        Assert.Contains("boom beta", failed.Items[0].LastError);

        var pending = await admin.ListJobsAsync(new JobQuery { Queue = queue.QueueName, States = [JobState.Pending], Names = [AdminJob.JobName] });
        // Newest first = id descending (ids are time-ordered to the millisecond; within one, by their random bits).
        Assert.Equal(delayed.OrderByDescending(id => id.Value), pending.Items.Select(i => i.Id));
        Assert.Null(pending.NextCursor);

        var both = await admin.ListJobsAsync(new JobQuery { States = [JobState.Pending, JobState.Failed] });
        Assert.Equal(5, both.Items.Count);

        var byName = await admin.ListJobsAsync(new JobQuery { Names = [OtherJob.JobName] });
        Assert.Equal([other], byName.Items.Select(i => i.Id));

        var contains = await admin.ListJobsAsync(new JobQuery { PayloadContains = """{"tag":"alpha","value":1}""" });
        Assert.Equal([delayed[1]], contains.Items.Select(i => i.Id));

        var text = await admin.ListJobsAsync(new JobQuery { PayloadText = "needle" });
        Assert.Equal([other], text.Items.Select(i => i.Id));

        var error = await admin.ListJobsAsync(new JobQuery { ErrorText = "BOOM" });
        Assert.Equal([failing], error.Items.Select(i => i.Id));

        var runSoon = await admin.ListJobsAsync(new JobQuery { RunBefore = DateTimeOffset.UtcNow.AddHours(1) });
        Assert.Equal([failing], runSoon.Items.Select(i => i.Id));

        var none = await admin.ListJobsAsync(new JobQuery { QueuedAfter = DateTimeOffset.UtcNow.AddHours(1) });
        Assert.Empty(none.Items);

        var wrongQueue = await admin.ListJobsAsync(new JobQuery { Queue = "no-such-queue" });
        Assert.Empty(wrongQueue.Items);

        var byRunAt = await admin.ListJobsAsync(new JobQuery { Order = JobOrder.RunAt, Limit = 1 });
        Assert.Equal(failing, byRunAt.Items.Single().Id);
        Assert.NotNull(byRunAt.NextCursor);
    }

    [Theory]
    [InlineData("said \"hi\"")]           // a double quote, as it reads in the value
    [InlineData("said \\\"hi\\\"")]       // ... and as the page's JSON view shows it
    [InlineData(@"C:\temp\new")]          // backslashes
    [InlineData("café")]                  // non-ASCII (the default JSON writer escapes it)
    [InlineData("O'Brien & R+D <b>")]     // characters the default JSON writer escapes
    [InlineData("\tTabbed")]              // a control character
    [InlineData("50% off_now")]           // LIKE wildcards are plain text
    public async Task Payload_text_finds_text_as_it_reads_in_the_payloads_values(string search)
    {
        await using var host = CreateHost();
        var target = await host.Queue.PushAsync(
            new OtherJob("He said \"hi\" in C:\\temp\\new, café, O'Brien & R+D <b>\tTabbed, 50% off_now"), new JobOptions { DelayUntil = Later });
        await host.Queue.PushAsync(new OtherJob("said hi in C:/temp/new, cafe, OBrien, R D, Tabbed, 50 off now, 50x offxnow"), new JobOptions { DelayUntil = Later });

        var found = await host.Admin.ListJobsAsync(new JobQuery { PayloadText = search });

        Assert.Equal([target], found.Items.Select(i => i.Id));
    }

    [Fact]
    public async Task A_text_search_finds_a_job_older_than_tens_of_thousands_of_newer_ones_on_its_first_page()
    {
        // An operator looking for one customer's job in a big table: the first page must not come back empty while
        // the job exists (a store may still stop a long search and hand back a cursor, but not after 25,000 rows).
        await using var host = CreateHost();
        var target = await host.Queue.PushAsync(new OtherJob("invoice for needle@example.com"), new JobOptions { DelayUntil = Later });
        for (var i = 0; i < 5; i++)
        {
            await PushDelayedAsync(host.Queue, 5_000, "hay", start: i * 5_000);
        }

        var byText = await host.Admin.ListJobsAsync(new JobQuery { PayloadText = "needle@" });
        var byJson = await host.Admin.ListJobsAsync(new JobQuery { PayloadContains = """{"text":"invoice for needle@example.com"}""" });

        Assert.Equal([target], byText.Items.Select(i => i.Id));
        Assert.Null(byText.NextCursor);
        Assert.Equal([target], byJson.Items.Select(i => i.Id));
        Assert.Null(byJson.NextCursor);
    }

    [Theory]
    [InlineData("50_ off")]
    [InlineData("C:%temp")]
    [InlineData("said \"\"")]
    public async Task Payload_text_is_not_a_pattern(string search)
    {
        await using var host = CreateHost();
        await host.Queue.PushAsync(new OtherJob("He said \"hi\" in C:\\temp, 50% off"), new JobOptions { DelayUntil = Later });

        var found = await host.Admin.ListJobsAsync(new JobQuery { PayloadText = search });

        Assert.Empty(found.Items);
    }

    [Fact]
    public async Task Invalid_queries_are_rejected_with_the_reason()
    {
        await using var host = CreateHost();
        var admin = host.Admin;
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => admin.ListJobsAsync(new JobQuery { Limit = 501 }));
        await Assert.ThrowsAsync<ArgumentException>(() => admin.ListJobsAsync(new JobQuery { PayloadContains = "{not json" }));
        await Assert.ThrowsAsync<ArgumentException>(() => admin.ListJobsAsync(new JobQuery { Cursor = "garbage" }));
        var runAtPage = new JobQuery { Order = JobOrder.RunAt, Cursor = "n." + Guid.NewGuid().ToString("N") };
        await Assert.ThrowsAsync<ArgumentException>(() => admin.ListJobsAsync(runAtPage));
    }

    [Fact]
    public async Task Cursor_paging_is_stable_under_concurrent_inserts_and_deletes()
    {
        await using var host = CreateHost();
        var queue = host.Queue;
        var admin = host.Admin;
        var original = await PushDelayedAsync(queue, 25);
        foreach (var order in new[] { JobOrder.Newest, JobOrder.RunAt })
        {
            var query = new JobQuery { Order = order, Limit = 10, Names = [AdminJob.JobName] };
            var seen = new List<JobId>();
            var page = await admin.ListJobsAsync(query);
            seen.AddRange(page.Items.Select(i => i.Id));

            // Between pages: new jobs arrive and one not yet listed is deleted.
            var inserted = await PushDelayedAsync(queue, 5, "new", start: 100);
            var notYetSeen = original.First(id => !seen.Contains(id));
            Assert.Equal(1, await admin.DeleteAsync(JobSelection.Ids(notYetSeen)));
            while (page.NextCursor is not null)
            {
                page = await admin.ListJobsAsync(query with { Cursor = page.NextCursor });
                seen.AddRange(page.Items.Select(i => i.Id));
            }

            Assert.Equal(seen.Count, seen.Distinct().Count());
            var expected = original.Where(id => id != notYetSeen).ToHashSet();
            Assert.Subset(seen.ToHashSet(), expected);
            if (order == JobOrder.Newest)
            {
                // Newer jobs sort before the cursor: they never appear on later pages.
                Assert.DoesNotContain(seen, inserted.Contains);
            }

            await admin.DeleteAsync(JobSelection.Ids(inserted));
            original = original.Where(id => id != notYetSeen).ToArray();
        }
    }

    [Fact]
    public async Task A_retried_finished_job_goes_to_the_back_of_its_concurrency_keys_line()
    {
        await using var host = await CreateHost().StartAsync();
        var driver = host.Driver;
        JobPushRecord Keyed(int value) => new()
        {
            Id = JobId.New(), Name = AdminJob.JobName, Payload = System.Text.Encoding.UTF8.GetBytes($$"""{"value":{{value}},"tag":"k"}"""),
            ConcurrencyKey = "tenant", ConcurrencyLimit = 1,
        };
        var first = Keyed(1);
        var second = Keyed(2);
        await driver.PushAsync([first, second], null, default);
        async Task<ClaimedJob[]> ClaimAsync() => [.. await driver.ClaimAsync(new JobClaimRequest("w", 10, TimeSpan.FromMinutes(1)), default)];

        var a = Assert.Single(await ClaimAsync());
        Assert.Equal(first.Id, a.Id);
        await driver.CompleteAsync("w", [new JobOutcome(a.Id, JobOutcomeKind.Failed, 1, Error: "no", LeaseToken: a.LeaseToken)], default);
        var b = Assert.Single(await ClaimAsync());
        Assert.Equal(second.Id, b.Id);

        // Retried while the second runs: it is now behind the second, so it waits for it rather than running beside it.
        Assert.Equal(1, await host.Admin.RetryAsync(JobSelection.Ids(first.Id)));
        Assert.Empty(await ClaimAsync());
        await driver.CompleteAsync("w", [new JobOutcome(b.Id, JobOutcomeKind.Completed, 1, LeaseToken: b.LeaseToken)], default);
        Assert.Equal(first.Id, Assert.Single(await ClaimAsync()).Id);
    }

    [Fact]
    public async Task Bulk_actions_report_rows_changed_and_apply_their_effect()
    {
        await using var host = await CreateHost(workers: true).StartAsync();
        var admin = host.Admin;
        var queue = host.Queue;
        var delayed = await PushDelayedAsync(queue, 4);
        var failing = await queue.PushManyAsync([new AdminJob(-1, "x"), new AdminJob(-2, "y")], new JobOptions { MaxAttempts = 1 });
        foreach (var id in failing)
        {
            await Eventually.GetAsync(() => admin.GetJobAsync(id), j => j?.State == JobState.Failed, "failing jobs fail");
        }

        // Set priority: waiting jobs only.
        Assert.Equal(2, await admin.SetPriorityAsync(JobSelection.Ids(delayed[0], delayed[1], failing[0]), JobPriority.Highest));
        Assert.Equal(JobPriority.Highest, (await admin.GetJobAsync(delayed[0]))!.Priority);
        Assert.Equal(0, await admin.SetPriorityAsync(JobSelection.Ids(delayed[0]), JobPriority.Highest));

        // Cancel: pending → cancelled; failed jobs are skipped.
        Assert.Equal(1, await admin.CancelAsync(JobSelection.Ids(delayed[3], failing[0])));
        Assert.Equal(JobState.Cancelled, (await admin.GetJobAsync(delayed[3]))!.State);

        // Retry by query: failed + cancelled → pending from the next attempt; a failed job with MaxAttempts 1 gets another attempt.
        await host.Queue.PauseQueueAsync(queue.QueueName, "hold retried jobs");
        var retried = await admin.RetryAsync(JobSelection.Matching(new JobQuery { States = [JobState.Failed, JobState.Cancelled] }));
        Assert.Equal(3, retried);
        var again = await admin.GetJobAsync(failing[1]);
        Assert.Equal(JobState.Pending, again!.State);
        Assert.Equal(1, again.Attempts);
        Assert.Equal(2, again.MaxAttempts);
        Assert.True(again.RunAt <= DateTimeOffset.UtcNow.AddSeconds(5));

        // Retry skips jobs that are not failed, cancelled or retrying; from the first attempt resets the attempt count.
        Assert.Equal(0, await admin.RetryAsync(JobSelection.Ids(failing[0])));
        Assert.Equal(1, await admin.CancelAsync(JobSelection.Ids(failing[0])));
        Assert.Equal(1, await admin.RetryAsync(JobSelection.Ids(failing[0]), fromFirstAttempt: true));
        var fresh = await admin.GetJobAsync(failing[0]);
        Assert.Equal((JobState.Pending, 0, 2), (fresh!.State, fresh.Attempts, fresh.MaxAttempts));

        // Run now: delayed pending → due.
        Assert.Equal(3, await admin.RunNowAsync(JobSelection.Ids(delayed[0], delayed[1], delayed[2])));
        Assert.True((await admin.GetJobAsync(delayed[0]))!.RunAt <= DateTimeOffset.UtcNow.AddSeconds(5));
        Assert.Equal(0, await admin.RunNowAsync(JobSelection.Ids(delayed[0])));

        // Delete by query.
        Assert.Equal(6, await admin.DeleteAsync(JobSelection.Matching(new JobQuery { Queue = queue.QueueName })));
        Assert.Null(await admin.GetJobAsync(delayed[0]));
        Assert.Empty((await admin.ListJobsAsync(new JobQuery())).Items);
        await host.Queue.ResumeQueueAsync(queue.QueueName);
    }

    [Fact]
    public async Task Bulk_actions_by_query_work_through_several_batches()
    {
        await using var host = CreateHost();
        var count = JobAdmin.BatchSize * 2 + 17;
        await PushDelayedAsync(host.Queue, count);
        Assert.Equal(count, await host.Admin.CancelAsync(JobSelection.Matching(new JobQuery { States = [JobState.Pending] })));
        var counts = (await host.Admin.GetQueuesAsync()).Single(q => q.Name == host.Queue.QueueName).Counts;
        Assert.Equal(count, counts.Cancelled);
        Assert.Equal(0, counts.Pending);
    }

    [Fact]
    public async Task Every_mutating_call_is_audited_with_actor_reason_and_rows()
    {
        await using var host = CreateHost();
        var ids = await PushDelayedAsync(host.Queue, 3);
        var audit = new AuditInfo("alice", "cleanup after incident 42");
        await host.Admin.CancelAsync(JobSelection.Ids(ids), audit);
        await host.Admin.PauseQueueAsync("emails", "provider outage", new AuditInfo("bob"));
        await host.Admin.ResumeQueueAsync("emails");

        var log = await host.Admin.GetAuditLogAsync(10);
        Assert.Equal(["queue.resume", "queue.pause", "cancel"], log.Select(e => e.Action));
        var cancel = log[2];
        Assert.Equal("alice", cancel.Actor);
        Assert.Equal("cleanup after incident 42", cancel.Reason);
        Assert.Equal(3, cancel.RowsChanged);
        Assert.Contains(ids[0].ToString(), cancel.Target);
        Assert.Equal("bob", log[1].Actor);
        Assert.Equal("provider outage", log[1].Reason);
        Assert.Equal("emails", log[1].Target);
        Assert.True(log[0].Id > log[1].Id && log[1].Id > log[2].Id);
    }

    [Fact]
    public async Task A_queue_paused_once_and_resumed_is_not_listed_when_it_has_no_jobs_and_no_workers()
    {
        // An operator paused a queue while moving its work elsewhere, resumed it, and the deploy removed it: no record of it remains.
        await using var host = CreateHost();
        Assert.True(await host.Admin.PauseQueueAsync("retired-queue", "moving to the new service"));
        Assert.Contains(await host.Admin.GetQueuesAsync(), q => q.Name == "retired-queue" && q.IsPaused);
        Assert.True(await host.Admin.ResumeQueueAsync("retired-queue"));

        var listed = (await host.Admin.GetQueuesAsync()).Select(q => q.Name).ToArray();
        Assert.True(!listed.Contains("retired-queue"), $"A resumed queue without jobs or workers is still listed: {string.Join(", ", listed)}");
        Assert.False(await host.Admin.ResumeQueueAsync("retired-queue"));
        Assert.True(await host.Admin.PauseQueueAsync("retired-queue", "again"));
        Assert.Contains(await host.Admin.GetQueuesAsync(), q => q.Name == "retired-queue" && q.IsPaused && q.PausedReason == "again");
    }

    [Fact]
    public async Task The_default_queue_is_listed_only_while_it_has_jobs_workers_or_a_pause()
    {
        // A process that pushes nothing yet (or whose jobs were all deleted), and runs no workers: no queue to list.
        await using var host = CreateHost();
        string Listed(IEnumerable<QueueInfo> queues) => string.Join(", ", queues.Select(q => q.Name == host.Queue.QueueName ? "the default queue" : q.Name));
        var fresh = await host.Admin.GetQueuesAsync();
        var job = await host.Queue.PushAsync(new AdminJob(1, "listed"), new JobOptions { DelayUntil = Later });
        var withJob = await host.Admin.GetQueuesAsync();
        await host.Admin.DeleteAsync(JobSelection.Ids(job));
        var deleted = await host.Admin.GetQueuesAsync();
        var page = await host.Admin.GetQueuesAsync(10, null);

        Assert.Equal(("", "the default queue", "", "", 0), (Listed(fresh), Listed(withJob), Listed(deleted), Listed(page.Items), page.Total));
    }

    [Fact]
    public async Task A_paused_queue_is_not_claimed_and_resume_brings_its_jobs_back()
    {
        await using var host = CreateHost();
        var queue = host.Queue;
        var id = await queue.PushAsync(new AdminJob(1, "p"));
        Assert.True(await queue.PauseQueueAsync(queue.QueueName, reason: "provider outage"));
        Assert.False(await queue.PauseQueueAsync(queue.QueueName, reason: "still out"));

        var info = (await queue.GetQueuesAsync()).Single(q => q.Name == queue.QueueName);
        Assert.True(info.IsPaused);
        Assert.Equal("still out", info.PausedReason);
        Assert.NotNull(info.PausedAt);
        Assert.Equal(1, info.Counts.Pending);
        Assert.NotNull(info.OldestWaitingAge);

        Assert.Empty(await host.Driver.ClaimAsync(new JobClaimRequest("w1", 10, TimeSpan.FromSeconds(30)), CancellationToken.None));

        Assert.True(await queue.ResumeQueueAsync(queue.QueueName));
        Assert.False(await queue.ResumeQueueAsync(queue.QueueName));
        Assert.False((await queue.GetQueuesAsync()).Single(q => q.Name == queue.QueueName).IsPaused);
        var claimed = await host.Driver.ClaimAsync(new JobClaimRequest("w1", 10, TimeSpan.FromSeconds(30)), CancellationToken.None);
        Assert.Equal([id], claimed.Select(c => c.Id));
    }

    [Fact]
    public async Task Queue_names_are_values_a_pause_keeps_exactly_and_names_no_store_can_hold_are_refused_with_ArgumentException()
    {
        await using var host = CreateHost();
        string[] odd = ["Emails", "e\"m'a;i l\\s -- DROP TABLE jobs", "队列-🚀", new string('q', 1000)];
        foreach (var name in odd)
        {
            Assert.True(await host.Admin.PauseQueueAsync(name, "odd"), name);
        }

        var paused = (await host.Admin.GetQueuesAsync()).Where(q => q.IsPaused).Select(q => q.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Superset(odd.ToHashSet(StringComparer.Ordinal), paused);
        Assert.DoesNotContain("emails", paused);

        // A name PostgreSQL cannot store or index, or with whitespace at either end (another queue than the trimmed one, never
        // what was meant), refused before it reaches the store (as a push to it would be).
        foreach (var bad in new[] { "nul\0queue", new string('q', 1001), new string('é', 501), "emails ", " emails", "\t" })
        {
            var pause = await Assert.ThrowsAsync<ArgumentException>(() => host.Admin.PauseQueueAsync(bad, "bad"));
            Assert.Equal("queue", pause.ParamName);
            var resume = await Assert.ThrowsAsync<ArgumentException>(() => host.Admin.ResumeQueueAsync(bad));
            Assert.Equal("queue", resume.ParamName);
        }

        var reason = await Assert.ThrowsAsync<ArgumentException>(() => host.Admin.PauseQueueAsync("emails", "nul\0reason"));
        Assert.Equal("reason", reason.ParamName);
        Assert.DoesNotContain(await host.Admin.GetQueuesAsync(), q => q.Name == "emails" && q.IsPaused);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Putting_failed_unique_jobs_back_never_leaves_two_jobs_of_one_key_waiting(bool cleanupRerun)
    {
        await using var host = await CreateHost(workers: true).StartAsync();
        var (queue, admin) = (host.Queue, host.Admin);
        var unique = new JobOptions { UniqueKey = "account-7", MaxAttempts = 1 };
        async Task<JobId> FailedAsync(int value)
        {
            var pushed = await queue.TryPushAsync(new AdminJob(value, "u"), unique);
            Assert.True(pushed.Inserted);
            await Eventually.GetAsync(() => admin.GetJobAsync(pushed.Id), j => j?.State == JobState.Failed, "the unique job failed");
            return pushed.Id;
        }

        // An operator's retry of both, or a cleanup pass that reruns failed jobs.
        async Task<int> PutBackAsync(JobId a, JobId b)
        {
            if (!cleanupRerun)
            {
                return await admin.RetryAsync(JobSelection.Ids([a, b]));
            }

            await queue.CleanupAsync(queue.QueueName, new CleanupOptions { FailedJobs = CleanupAction.Rerun });
            return (await Task.WhenAll(admin.GetJobAsync(a), admin.GetJobAsync(b))).Count(j => j!.State == JobState.Pending);
        }

        // Two failed jobs of the key (the second could be pushed: the first had released it), then a third one waiting.
        var first = await FailedAsync(-1);
        var second = await FailedAsync(-2);
        await queue.PauseQueueAsync(queue.QueueName);
        var waiting = await queue.TryPushAsync(new AdminJob(3, "u"), unique);
        Assert.True(waiting.Inserted);

        // Putting them back must not put a second job of the key in line: the waiting job holds it, so both stay failed.
        Assert.Equal(0, await PutBackAsync(first, second));
        Assert.Equal(JobState.Failed, (await admin.GetJobAsync(first))!.State);
        Assert.Equal(JobState.Failed, (await admin.GetJobAsync(second))!.State);

        // Once the key is free, one of them takes it back, and a push of the key finds that one.
        Assert.Equal(1, await admin.CancelAsync(JobSelection.Ids([waiting.Id])));
        Assert.Equal(1, await PutBackAsync(first, second));
        var back = (await admin.GetJobAsync(first))!.State == JobState.Pending ? first : second;
        Assert.Equal(JobState.Failed, (await admin.GetJobAsync(back == first ? second : first))!.State);
        Assert.Equal(new JobPushResult(back, false), await queue.TryPushAsync(new AdminJob(4, "u"), unique));
        if (!cleanupRerun)
        {
            Assert.Equal(first, back); // a retry gives the key to the first job asked for
        }
    }

    [Fact]
    public async Task A_paused_queue_holds_jobs_while_a_worker_runs_and_resume_completes_them()
    {
        await using var host = CreateHost(workers: true);
        var queue = host.Queue;
        await queue.PauseQueueAsync(queue.QueueName);
        await host.StartAsync();
        var id = await queue.PushAsync(new AdminJob(-5, "held"), new JobOptions { MaxAttempts = 1 });
        // Two more claims ended (a worker counts a claim when it returns: the first may have started before the push, the
        // second started after it); the job is still pending.
        var worker = host.Services.GetRequiredService<JobWorker>();
        var claims = worker.Claims;
        await Eventually.GetAsync(() => Task.FromResult(worker.Claims), n => n >= claims + 2, "two more claims of the worker after the push");
        Assert.Equal(JobState.Pending, (await host.Admin.GetJobAsync(id))!.State);

        await queue.ResumeQueueAsync(queue.QueueName);
        var done = await Eventually.GetAsync(() => host.Admin.GetJobAsync(id), j => j?.State == JobState.Failed, "the job runs after resume");
        Assert.Equal(1, Assert.Single(done!.Errors).Attempt);
        Assert.Equal(done.LastError, done.Errors[0].Error);
    }

    [Fact]
    public async Task Throughput_counts_finished_jobs_per_minute_although_retention_deleted_the_completed_ones()
    {
        await using var host = await CreateHost(workers: true).StartAsync();
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        await host.Queue.PushManyAsync(Enumerable.Range(1, 3).Select(i => new AdminJob(i, "ok")));
        await host.Queue.PushAsync(new AdminJob(-1, "bad"), new JobOptions { MaxAttempts = 1 });

        // The default retention deletes completed jobs at once: no row is left to count them from.
        await Eventually.GetAsync(() => host.Queue.GetCountsAsync(), c => c.Failed == 1 && c.Pending + c.Processing + c.Retrying == 0,
            "the jobs finish");
        Assert.Equal(0, (await host.Queue.GetCountsAsync()).Completed);

        var minutes = await Eventually.GetAsync(() => host.Admin.GetThroughputAsync(before, DateTimeOffset.UtcNow.AddMinutes(2)),
            m => m.Sum(x => x.Completed) == 3 && m.Sum(x => x.Failed) == 1, "the workers' counts reach the store");
        Assert.All(minutes, m => Assert.Equal(host.Queue.QueueName, m.QueueName));
        Assert.All(minutes, m => Assert.Equal(0, m.Minute.Ticks % TimeSpan.TicksPerMinute));

        // A report replaces a worker's total for its minute (idempotent), and workers add up.
        var minute = minutes[0].Minute;
        var other = new JobThroughputReport { WorkerId = "other", Minutes = [new JobThroughputMinute(minute, host.Queue.QueueName, 5, 0)] };
        await host.Admin.Store.ReportThroughputAsync(other, CancellationToken.None);
        await host.Admin.Store.ReportThroughputAsync(other, CancellationToken.None);
        var summed = await host.Admin.GetThroughputAsync(minute, minute.AddMinutes(1));
        Assert.Equal(minutes[0].Completed + 5, Assert.Single(summed).Completed);
        Assert.Empty(await host.Admin.GetThroughputAsync(minute.AddHours(-2), minute.AddHours(-1)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.Admin.GetThroughputAsync(minute, minute));
    }

    [Fact]
    public async Task Workers_appear_while_running_and_disappear_after_a_graceful_stop_or_when_their_lease_expires()
    {
        await using var host = CreateHost(workers: true);
        Assert.Empty(await host.Admin.GetWorkersAsync());
        await host.StartAsync();
        var worker = host.Services.GetRequiredService<JobWorker>();
        var workers = await Eventually.GetAsync(() => host.Admin.GetWorkersAsync(), w => w.Count == 1, "the worker appears");
        var info = workers.Single();
        Assert.Equal(worker.WorkerId, info.WorkerId);
        Assert.Equal(Environment.ProcessId, info.ProcessId);
        Assert.Equal(Environment.MachineName, info.Host);
        Assert.Equal([host.Queue.QueueName], info.Queues);
        Assert.Contains(AdminJob.JobName, info.JobNames);
        Assert.Equal(1, (await host.Admin.GetQueuesAsync()).Single(q => q.Name == host.Queue.QueueName).WorkerCount);

        await host.StopAsync();
        Assert.Empty(await host.Admin.GetWorkersAsync());

        // A worker that dies stops reporting: it disappears once its last report expires.
        await host.Admin.Store.ReportWorkerAsync(new WorkerHeartbeat
        {
            WorkerId = "dead-worker", Host = "h", ProcessId = 1, StartedAt = DateTimeOffset.UtcNow, Queues = ["q"], JobNames = ["n"],
            TimeToLive = TimeSpan.FromMilliseconds(300),
        }, CancellationToken.None);
        await Eventually.GetAsync(() => host.Admin.GetWorkersAsync(), w => w.Count == 0, "the dead worker disappears");
    }

    [Fact]
    public async Task An_entry_is_listed_as_stale_once_no_running_scheduler_publishes_it()
    {
        // Workers with a 3 s lease: the scheduler republishes every second and its publication holds 3 s.
        await using var host = await CreateHost(workers: true, more: jobs => jobs.AddSchedule(s =>
            s.Add(new AdminJob(7, "scheduled"), Schedule.Cron("0 0 1 1 *"), key: "removed-by-a-deploy"))).StartAsync();
        var admin = host.Admin;
        var entry = (await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 1, "the entry is published")).Single();
        Assert.False(entry.IsStale, "an entry its scheduler publishes is listed as stale");

        // The last process that runs the entry stops (a deploy removed it): within its time to live it is listed as stale.
        await host.StopAsync();
        var stale = (await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 1 && s[0].IsStale,
            "the entry no running scheduler publishes is listed as stale")).Single();
        Assert.Equal("removed-by-a-deploy", stale.EntryKey);
    }

    [Fact]
    public async Task Schedules_are_listed_triggered_paused_and_resumed()
    {
        await using var host = await CreateHost(workers: false, more: jobs => jobs.AddSchedule(s =>
            s.Add(new AdminJob(7, "scheduled"), Schedule.Cron("0 0 1 1 *"), key: "yearly-report"))).StartAsync();
        var admin = host.Admin;
        var entry = (await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 1, "the entry is published")).Single();
        Assert.Equal("yearly-report", entry.EntryKey);
        Assert.Equal(AdminJob.JobName, entry.JobName);
        Assert.Equal(host.Queue.QueueName, entry.QueueName);
        Assert.Equal("cron 0 0 1 1 * UTC", entry.Schedule);
        Assert.Equal(new DateTimeOffset(DateTimeOffset.UtcNow.Year + 1, 1, 1, 0, 0, 0, TimeSpan.Zero), entry.NextFireAt);
        Assert.False(entry.IsPaused);

        Assert.Equal(1, await admin.TriggerScheduleAsync("yearly-report", new AuditInfo("ops")));
        await Assert.ThrowsAsync<ScheduleEntryNotFoundException>(() => admin.TriggerScheduleAsync("no-such-entry"));
        var pushed = (await admin.ListJobsAsync(new JobQuery { Names = [AdminJob.JobName] })).Items.Single();
        var details = await admin.GetJobAsync(pushed.Id);
        Assert.Equal("yearly-report", details!.ScheduleEntry);
        Assert.Contains("\"scheduled\"", details.Payload);

        Assert.Equal(1, await admin.PauseScheduleAsync("yearly-report"));
        Assert.Equal(0, await admin.PauseScheduleAsync("yearly-report"));
        Assert.True((await admin.GetSchedulesAsync()).Single().IsPaused);

        // While paused, a fire is recorded but pushes nothing.
        var store = (IJobScheduleStore)host.Driver;
        var fire = DateTimeOffset.UtcNow.AddMinutes(-1);
        var record = new JobPushRecord { Id = JobId.New(), Name = AdminJob.JobName, Payload = "{\"value\":1,\"tag\":\"f\"}"u8.ToArray() };
        Assert.False(await store.TryPushScheduledAsync("yearly-report", fire, record, CancellationToken.None));
        Assert.Null(await admin.GetJobAsync(record.Id));
        Assert.Equal(fire.ToUnixTimeMilliseconds(), (await admin.GetSchedulesAsync()).Single().LastFireAt?.ToUnixTimeMilliseconds());

        Assert.Equal(1, await admin.ResumeScheduleAsync("yearly-report"));
        var record2 = record with { Id = JobId.New() };
        Assert.True(await store.TryPushScheduledAsync("yearly-report", fire.AddSeconds(1), record2, CancellationToken.None));
        Assert.NotNull(await admin.GetJobAsync(record2.Id));
    }

    private static async Task<IReadOnlyList<JobSummary>> JobsNamedAsync(JobAdmin admin, string name)
        => (await admin.ListJobsAsync(new JobQuery { Names = [name] })).Items;

    [Fact]
    public async Task Jobs_of_every_queue_are_listed_counted_and_acted_on()
    {
        // One JobAdmin operates every queue of its store, not only the driver's default queue (issue 16: many queues).
        await using var host = await CreateHost(workers: false, more: jobs => jobs.AddJob<AdminReportJob>((_, _, _) => Task.CompletedTask)).StartAsync();
        var admin = host.Admin;
        var routed = await host.Queue.PushAsync(new AdminReportJob(1), new JobOptions { DelayUntil = Later });
        var other = await host.Queue.PushAsync(new AdminReportJob(2), new JobOptions { DelayUntil = Later, Queue = "admin-other" });

        var listed = (await admin.ListJobsAsync(new JobQuery { Names = [AdminReportJob.JobName] })).Items;
        Assert.Equal(new[] { (routed, AdminReportJob.QueueName), (other, "admin-other") }.OrderBy(x => x.Item1.Value),
            listed.Select(j => (j.Id, j.QueueName)).OrderBy(x => x.Id.Value));
        Assert.Equal([other], (await admin.ListJobsAsync(new JobQuery { Queue = "admin-other" })).Items.Select(j => j.Id));
        Assert.Equal(AdminReportJob.QueueName, (await admin.GetJobAsync(routed))?.QueueName);
        var queues = await admin.GetQueuesAsync();
        Assert.Equal(1, queues.Single(q => q.Name == AdminReportJob.QueueName).Counts.Pending);
        Assert.Equal(1, queues.Single(q => q.Name == "admin-other").Counts.Pending);

        Assert.Equal(2, await admin.CancelAsync(JobSelection.Ids(routed, other)));
        Assert.Equal(JobState.Cancelled, (await admin.GetJobAsync(other))?.State);
        Assert.Equal(1, await admin.DeleteAsync(JobSelection.Matching(new JobQuery { Queue = AdminReportJob.QueueName })));
        Assert.Null(await admin.GetJobAsync(routed));
    }

    [Fact]
    public async Task Triggering_an_entry_of_a_job_routed_to_another_queue_pushes_it_to_that_queue()
    {
        await using var host = await CreateHost(workers: false, more: jobs => jobs
            .AddJob<AdminReportJob>((_, _, _) => Task.CompletedTask)
            .AddSchedule(s => s.Add(new AdminReportJob(3), Schedule.Cron("0 0 1 1 *"), key: "routed-report"))).StartAsync();
        var admin = host.Admin;
        var entry = (await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 1, "the entry is published")).Single();
        Assert.Equal(AdminReportJob.QueueName, entry.QueueName);

        Assert.Equal(1, await admin.TriggerScheduleAsync("routed-report"));

        var pushed = Assert.Single((await admin.ListJobsAsync(new JobQuery { Names = [AdminReportJob.JobName] })).Items);
        Assert.Equal(AdminReportJob.QueueName, pushed.QueueName);
    }

    [Fact]
    public async Task Triggering_a_unique_entry_pushes_nothing_while_its_key_is_held_and_the_triggered_job_holds_the_key()
    {
        // The key is the [UniqueKey] member: the holder's payload differs from the entry's, its key does not.
        await using var host = await CreateHost(workers: false, more: jobs => jobs.AddSchedule(s =>
            s.Add(new AdminKeyedJob(5, 1), Schedule.Cron("0 0 1 1 *"), key: "keyed-report"))).StartAsync();
        var admin = host.Admin;
        await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 1, "the entry is published");
        var holder = await host.Queue.TryPushAsync(new AdminKeyedJob(5, 99), new JobOptions { DelayUntil = Later });
        Assert.True(holder.Inserted);

        // Held by a waiting job: no second job, and the caller learns that nothing was pushed.
        Assert.Equal(0, await admin.TriggerScheduleAsync("keyed-report", new AuditInfo("ops")));
        Assert.Equal([holder.Id], (await JobsNamedAsync(admin, AdminKeyedJob.JobName)).Select(j => j.Id));
        var audit = (await admin.GetAuditLogAsync(1)).Single();
        Assert.Equal(("schedule.trigger", $"keyed-report (queue {host.Queue.QueueName})", 0), (audit.Action, audit.Target, audit.RowsChanged));

        // The key is free once its holder is gone: the triggered job is pushed and holds the key against later pushes.
        Assert.Equal(1, await admin.DeleteAsync(JobSelection.Ids(holder.Id)));
        Assert.Equal(1, await admin.TriggerScheduleAsync("keyed-report"));
        var triggered = Assert.Single(await JobsNamedAsync(admin, AdminKeyedJob.JobName));
        Assert.NotEqual(holder.Id, triggered.Id);
        Assert.Equal("keyed-report", (await admin.GetJobAsync(triggered.Id))!.ScheduleEntry);
        Assert.Equal(new JobPushResult(triggered.Id, false), await host.Queue.TryPushAsync(new AdminKeyedJob(5, 42)));
        Assert.Equal(0, await admin.TriggerScheduleAsync("keyed-report"));
        Assert.Single(await JobsNamedAsync(admin, AdminKeyedJob.JobName));

        // Another key is another key.
        Assert.True((await host.Queue.TryPushAsync(new AdminKeyedJob(6, 1))).Inserted);
    }

    [Fact]
    public async Task Triggering_a_unique_entry_keyed_by_its_payload_releases_a_finished_holder_and_holds_the_key()
    {
        await using var host = await CreateHost(workers: true, more: jobs =>
        {
            jobs.AddJob<AdminUniqueJob>((job, ctx, ct) => job.Value < 0 ? throw new InvalidOperationException("boom unique") : Task.CompletedTask);
            jobs.AddSchedule(s => s.Add(new AdminUniqueJob(-7), Schedule.Cron("0 0 1 1 *"), key: "unique-report"));
        }).StartAsync();
        var admin = host.Admin;
        await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 1, "the entry is published");

        // A failed job of the key is kept (retention) but its hold ended when it finished (UniqueFor 0): the trigger releases it.
        var failed = await host.Queue.TryPushAsync(new AdminUniqueJob(-7), new JobOptions { MaxAttempts = 1 });
        Assert.True(failed.Inserted);
        await Eventually.GetAsync(() => admin.GetJobAsync(failed.Id), j => j?.State == JobState.Failed, "the holder fails");
        Assert.Equal(1, await admin.TriggerScheduleAsync("unique-report"));
        var triggered = Assert.Single(await JobsNamedAsync(admin, AdminUniqueJob.JobName), j => j.Id != failed.Id);

        // While the triggered job waits or runs it holds the key; once it failed (kept, hold over) the key is free again.
        var push = await host.Queue.TryPushAsync(new AdminUniqueJob(-7), new JobOptions { MaxAttempts = 1 });
        var state = (await admin.GetJobAsync(triggered.Id))!.State;
        Assert.True(push.Inserted ? state == JobState.Failed : push.Id == triggered.Id, $"push {push}, triggered job {state}");
    }

    [Fact]
    public async Task A_trigger_racing_a_unique_push_of_the_same_key_yields_exactly_one_job()
    {
        await using var host = await CreateHost(workers: false, more: jobs => jobs.AddSchedule(s =>
            s.Add(new AdminUniqueJob(3), Schedule.Cron("0 0 1 1 *"), key: "raced-report"))).StartAsync();
        var admin = host.Admin;
        await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 1, "the entry is published");
        for (var round = 0; round < 20; round++)
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var trigger = Task.Run(async () =>
            {
                await start.Task;
                return await admin.TriggerScheduleAsync("raced-report");
            });
            var push = Task.Run(async () =>
            {
                await start.Task;
                return await host.Queue.TryPushAsync(new AdminUniqueJob(3), new JobOptions { DelayUntil = Later });
            });
            start.SetResult();
            var (triggered, pushed) = (await trigger, await push);

            var job = Assert.Single(await JobsNamedAsync(admin, AdminUniqueJob.JobName));
            Assert.Equal(1, triggered + (pushed.Inserted ? 1 : 0));
            Assert.Equal(job.Id, pushed.Id);
            Assert.Equal(1, await admin.DeleteAsync(JobSelection.Ids(job.Id)));
        }
    }

    private static Task<IReadOnlyList<ClaimedJob>> ClaimAsync(AdminHost host)
        => host.Driver.ClaimAsync(new JobClaimRequest("w-ops", 10, TimeSpan.FromMinutes(5)), CancellationToken.None);

    [Fact]
    public async Task A_triggered_entry_of_a_concurrency_limited_job_waits_while_a_job_of_its_key_runs()
    {
        // Limit 1 per tenant: the operator's trigger must not run beside the tenant's running job, as no push or scheduled
        // fire of the key would.
        await using var host = await CreateHost(workers: false, more: jobs => jobs
            .AddJob<AdminLimitedJob>((_, _, _) => Task.CompletedTask)
            .AddSchedule(s => s.Add(new AdminLimitedJob("t1", 1), Schedule.Cron("0 0 1 1 *"), key: "limited-report"))).StartAsync();
        var admin = host.Admin;
        await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 1, "the entry is published");
        var running = await host.Queue.PushAsync(new AdminLimitedJob("t1", 2));
        var claimed = Assert.Single(await ClaimAsync(host));
        Assert.Equal(running, claimed.Id);

        Assert.Equal(1, await admin.TriggerScheduleAsync("limited-report"));
        var triggered = Assert.Single(await JobsNamedAsync(admin, AdminLimitedJob.JobName), j => j.Id != running);
        var other = await host.Queue.PushAsync(new AdminLimitedJob("t2", 3));
        var second = await ClaimAsync(host);
        Assert.True(second.Select(c => c.Id).SequenceEqual([other]),
            $"While tenant t1's job runs (limit 1) a claim took [{string.Join(", ", second.Select(c => c.Id == triggered.Id ? "the triggered t1 job" : c.Id.ToString()))}]; expected only tenant t2's job");

        // Once the tenant's running job finished, the triggered job runs.
        await host.Driver.CompleteAsync("w-ops", [new JobOutcome(running, JobOutcomeKind.Completed, claimed.Attempt, LeaseToken: claimed.LeaseToken)], CancellationToken.None);
        Assert.Equal([triggered.Id], (await ClaimAsync(host)).Select(c => c.Id));
    }

    [Fact]
    public async Task Job_details_include_payload_headers_errors_and_timestamps()
    {
        await using var host = await CreateHost(workers: true).StartAsync();
        var id = await host.Queue.PushAsync(new AdminJob(-3, "detail"), new JobOptions { MaxAttempts = 1, Priority = JobPriority.Higher });
        var job = await Eventually.GetAsync(() => host.Admin.GetJobAsync(id), j => j?.State == JobState.Failed, "the job fails");
        Assert.Equal(AdminJob.JobName, job!.Name);
        Assert.Equal(host.Queue.QueueName, job.QueueName);
        Assert.Equal(JobPriority.Higher, job.Priority);
        Assert.Contains("\"detail\"", job.Payload);
        Assert.Equal(1, job.Attempts);
        var error = Assert.Single(job.Errors);
        Assert.Equal(1, error.Attempt);
        Assert.Contains("boom detail", error.Error);
        Assert.NotNull(job.StartedAt);
        Assert.NotNull(job.FinishedAt);
        Assert.True(job.QueuedAt <= job.StartedAt && job.StartedAt <= job.FinishedAt);
        Assert.Equal(host.Services.GetRequiredService<JobWorker>().WorkerId, job.WorkerId);
        Assert.Null(job.LeaseExpiresAt);
        Assert.Null(await host.Admin.GetJobAsync(JobId.New()));
    }
}
