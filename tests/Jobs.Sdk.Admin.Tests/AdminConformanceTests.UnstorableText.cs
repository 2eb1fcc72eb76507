namespace Jobs.Sdk.Admin.Tests;

/// <summary>
/// Text no store can hold (U+0000, which PostgreSQL text rejects; an unpaired UTF-16 surrogate, which has no UTF-8 form):
/// refused with an <see cref="ArgumentException"/> before anything changes, never an action done without its audit entry.
/// </summary>
public abstract partial class AdminConformanceTests
{
    // Named, not passed: xUnit turns an unpaired surrogate in theory data into U+FFFD.
    public static TheoryData<string> UnstorableTexts() => ["NUL", "high surrogate alone", "low surrogate alone"];

    private static string Unstorable(string kind) => kind switch
    {
        "NUL" => "nul\0text",
        "high surrogate alone" => "cut emoji \uD83D",
        _ => "\uDE00 low first",
    };

    [Theory]
    [MemberData(nameof(UnstorableTexts))]
    public async Task An_audit_actor_or_reason_no_store_can_hold_is_refused_before_the_action_changes_anything(string kind)
    {
        var text = Unstorable(kind);
        await using var host = CreateHost();
        var ids = await PushDelayedAsync(host.Queue, 2);

        foreach (var audit in new[] { new AuditInfo(text, "why"), new AuditInfo("alice", text) })
        {
            var cancel = await Assert.ThrowsAsync<ArgumentException>(() => host.Admin.CancelAsync(JobSelection.Ids(ids), audit));
            Assert.Equal("audit", cancel.ParamName);
            var pause = await Assert.ThrowsAsync<ArgumentException>(() => host.Admin.PauseQueueAsync("emails", null, audit));
            Assert.Equal("audit", pause.ParamName);
        }

        foreach (var id in ids)
        {
            Assert.Equal(JobState.Pending, (await host.Admin.GetJobAsync(id))!.State);
        }

        Assert.DoesNotContain(await host.Admin.GetQueuesAsync(), q => q.Name == "emails" && q.IsPaused);
        var reason = await Assert.ThrowsAsync<ArgumentException>(() => host.Admin.PauseQueueAsync("emails", text));
        Assert.Equal("reason", reason.ParamName);
        var queue = await Assert.ThrowsAsync<ArgumentException>(() => host.Admin.PauseQueueAsync("emails" + text));
        Assert.Equal("queue", queue.ParamName);
        var entry = await Assert.ThrowsAsync<ArgumentException>(() => host.Admin.PauseScheduleAsync("nightly" + text));
        Assert.Equal("entryKey", entry.ParamName);

        // Every action above was refused: the audit log records none, and a valid one still is recorded.
        Assert.Empty(await host.Admin.GetAuditLogAsync(10));
        Assert.Equal(2, await host.Admin.CancelAsync(JobSelection.Ids(ids), new AuditInfo("alice", "why")));
        Assert.Equal(["cancel"], (await host.Admin.GetAuditLogAsync(10)).Select(e => e.Action));
    }

    [Fact]
    public async Task A_bulk_action_by_a_long_query_is_audited_with_its_target_cut_on_a_character_boundary()
    {
        await using var host = CreateHost();
        await PushDelayedAsync(host.Queue, 2);

        // The audit target is the query's text cut to 1,000 characters: here the cut falls inside an emoji (a surrogate pair).
        var query = new JobQuery { PayloadText = "🚀" + string.Concat(Enumerable.Repeat("😀", 600)) };
        Assert.True(char.IsHighSurrogate(("query: " + query)[999]), "the cut must fall inside a surrogate pair");
        await host.Admin.DeleteAsync(JobSelection.Matching(query), new AuditInfo("alice", "long search"));

        var entry = Assert.Single(await host.Admin.GetAuditLogAsync(10));
        Assert.Equal("delete", entry.Action);
        Assert.True(entry.Target.Length is > 900 and <= 1000, $"target of {entry.Target.Length} characters");
        Assert.False(char.IsHighSurrogate(entry.Target[^1]), "cut inside a surrogate pair");
        Assert.StartsWith("query: ", entry.Target, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(UnstorableTexts))]
    public async Task A_query_with_text_no_store_can_hold_is_refused_as_an_invalid_query(string kind)
    {
        var text = Unstorable(kind);
        await using var host = CreateHost();
        await PushDelayedAsync(host.Queue, 1);

        foreach (var query in new[]
        {
            new JobQuery { PayloadText = text }, new JobQuery { ErrorText = text }, new JobQuery { Queue = text },
            new JobQuery { Names = ["admin.job", text] },
            // The same text as a JSON escape, in a value and in a property name (jsonb refuses \u0000).
            new JobQuery { PayloadContains = "{\"tag\":\"" + JsonEscape(text) + "\"}" },
            new JobQuery { PayloadContains = "{\"" + JsonEscape(text) + "\":1}" },
        })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => host.Admin.ListJobsAsync(query));
            await Assert.ThrowsAsync<ArgumentException>(() => host.Admin.CancelAsync(JobSelection.Matching(query)));
        }

        Assert.Single((await host.Admin.ListJobsAsync(new JobQuery())).Items);
        Assert.Empty(await host.Admin.GetAuditLogAsync(10));
    }

    private static string JsonEscape(string text) => string.Concat(text.Select(c => c is '\0' || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
