namespace Jobs.Sdk.Admin.Tests;

/// <summary>
/// An operator's free text (an audit actor or reason, a queue's pause reason) is stored and sent back with every listing
/// (the queue list, the audit log, the dashboard's live snapshot): one over its cap is refused with an
/// <see cref="ArgumentException"/> naming the field, its length and the cap, before anything changes or is audited.
/// </summary>
public abstract partial class AdminConformanceTests
{
    private const int ReasonCap = 1000, ActorCap = 200; // AuditInfo.MaxReasonLength, MaxActorLength
    private static readonly string Megabyte = new('r', 1 << 20);

    [Fact]
    public async Task A_one_megabyte_pause_reason_is_refused_and_nothing_is_paused_or_audited()
    {
        await using var host = CreateHost();
        await PushDelayedAsync(host.Queue, 1);
        var queue = host.Queue.QueueName;

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => host.Admin.PauseQueueAsync(queue, Megabyte));
        Assert.Equal("reason", refused.ParamName);
        Assert.Contains("pause reason", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"{1 << 20} characters", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"at most {ReasonCap}", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => host.Queue.PauseQueueAsync(queue, Megabyte));

        Assert.DoesNotContain(await host.Admin.GetQueuesAsync(), q => q.IsPaused);
        Assert.Empty(await host.Admin.GetAuditLogAsync(10));

        // A reason of exactly the cap is kept and listed.
        var longest = new string('x', ReasonCap);
        Assert.True(await host.Admin.PauseQueueAsync(queue, longest));
        Assert.Equal(longest, Assert.Single(await host.Admin.GetQueuesAsync(), q => q.Name == queue).PausedReason);
    }

    [Fact]
    public async Task An_audit_actor_or_reason_over_its_cap_is_refused_before_any_action_changes_anything()
    {
        await using var host = CreateHost();
        var ids = await PushDelayedAsync(host.Queue, 2);
        var queue = host.Queue.QueueName;
        var longActor = new AuditInfo(new string('a', ActorCap + 1), "why");
        var longReason = new AuditInfo("alice", Megabyte);

        foreach (var audit in new[] { longActor, longReason })
        {
            var what = audit == longActor ? "audit actor" : "audit reason";
            var length = audit == longActor ? ActorCap + 1 : 1 << 20;
            var cap = audit == longActor ? ActorCap : ReasonCap;
            foreach (var act in new Func<Task>[]
            {
                () => host.Admin.CancelAsync(JobSelection.Ids(ids), audit),
                () => host.Admin.DeleteAsync(JobSelection.Matching(new JobQuery { Queue = queue }), audit),
                () => host.Admin.SetPriorityAsync(JobSelection.Ids(ids), JobPriority.Highest, audit),
                () => host.Admin.PauseQueueAsync(queue, null, audit),
                () => host.Admin.ResumeQueueAsync(queue, audit),
                () => host.Admin.PauseScheduleAsync("nightly", audit),
                () => host.Admin.TriggerScheduleAsync("nightly", audit),
            })
            {
                var refused = await Assert.ThrowsAsync<ArgumentException>(act);
                Assert.Equal("audit", refused.ParamName);
                Assert.Contains(what, refused.Message, StringComparison.Ordinal);
                Assert.Contains($"{length} characters", refused.Message, StringComparison.Ordinal);
                Assert.Contains($"at most {cap}", refused.Message, StringComparison.Ordinal);
            }
        }

        foreach (var id in ids)
        {
            var job = (await host.Admin.GetJobAsync(id))!;
            Assert.Equal(JobState.Pending, job.State);
            Assert.NotEqual(JobPriority.Highest, job.Priority);
        }

        Assert.DoesNotContain(await host.Admin.GetQueuesAsync(), q => q.IsPaused);
        Assert.Empty(await host.Admin.GetAuditLogAsync(10));

        // At the caps, the action is done and audited with both.
        var longest = new AuditInfo(new string('a', ActorCap), new string('r', ReasonCap));
        Assert.Equal(2, await host.Admin.CancelAsync(JobSelection.Ids(ids), longest));
        var entry = Assert.Single(await host.Admin.GetAuditLogAsync(10));
        Assert.Equal(longest.Actor, entry.Actor);
        Assert.Equal(longest.Reason, entry.Reason);
    }
}
