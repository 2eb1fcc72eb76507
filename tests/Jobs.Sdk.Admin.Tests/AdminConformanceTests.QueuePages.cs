namespace Jobs.Sdk.Admin.Tests;

/// <summary>
/// <see cref="JobAdmin.GetQueuesAsync(int, string?, CancellationToken)"/>: the store's queues a page at a time by name
/// (ordinal), as <see cref="JobAdmin.GetSchedulesAsync(int, string?, CancellationToken)"/> pages the schedule entries. A
/// process with 1,000 queues got all of them at once (only the dashboard's HTTP API paged them).
/// </summary>
public abstract partial class AdminConformanceTests
{
    [Fact]
    public async Task Pages_of_300_list_each_of_1000_queues_once_by_name_and_end_without_a_cursor()
    {
        await using var host = CreateHost();
        var admin = host.Admin;
        // Names whose ordinal order differs from a linguistic one ('B' before 'a', '-' before '_'); a paused queue is listed.
        var names = Enumerable.Range(0, 1_000).Select(i => $"{(i % 3 == 0 ? "B" : "a")}{(i % 5 == 0 ? "-" : "_")}{i:D4}").ToArray();
        foreach (var chunk in names.Chunk(50))
        {
            await Task.WhenAll(chunk.Select(n => admin.PauseQueueAsync(n, "paging")));
        }

        var all = (await admin.GetQueuesAsync()).Select(q => q.Name).ToArray();
        Assert.Superset(names.ToHashSet(), all.ToHashSet());

        var listed = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await admin.GetQueuesAsync(300, cursor);
            Assert.True(page.Items.Count <= 300, $"page {pages + 1} holds {page.Items.Count} queues (limit 300)");
            Assert.Equal(all.Length, page.Total);
            listed.AddRange(page.Items.Select(q => q.Name));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null && pages < 20);

        Assert.Equal((all.Length + 299) / 300, pages);
        Assert.Equal(all.Order(StringComparer.Ordinal), listed);
        var paused = (await admin.GetQueuesAsync(JobQuery.MaxLimit, null)).Items.Single(q => q.Name == names[7]);
        Assert.True(paused.IsPaused);
        Assert.Equal("paging", paused.PausedReason);
    }

    [Fact]
    public async Task A_queue_added_or_removed_between_two_pages_neither_repeats_nor_shifts_the_next_page()
    {
        await using var host = CreateHost();
        var admin = host.Admin;
        foreach (var n in new[] { "q-10", "q-20", "q-30", "q-40", "q-50", "q-60" })
        {
            await admin.PauseQueueAsync(n);
        }

        var before = (await admin.GetQueuesAsync()).Select(q => q.Name).Order(StringComparer.Ordinal).ToList();
        var first = await admin.GetQueuesAsync(before.IndexOf("q-30") + 1, null);
        Assert.Equal("q-30", first.Items[^1].Name);

        // Between the pages: a queue before the cursor and one after it appear, and one not yet shown goes away.
        await admin.PauseQueueAsync("q-25");
        await admin.PauseQueueAsync("q-45");
        await admin.ResumeQueueAsync("q-50");
        var second = await admin.GetQueuesAsync(3, first.NextCursor);

        Assert.Equal(["q-40", "q-45", "q-60"], second.Items.Select(q => q.Name));
        Assert.Equal(before.Count + 1, second.Total);
    }

    [Theory]
    [InlineData("not a cursor!")]   // not Base64Url
    [InlineData("_-_-")]            // Base64Url, but not UTF-8 text
    [InlineData("cS0xMABrZXk")]     // a schedules page's cursor ("q-10", NUL, "key"): no queue has a NUL in its name
    public async Task A_cursor_no_queue_page_gave_is_refused_with_what_to_pass_instead(string cursor)
    {
        await using var host = CreateHost();
        await host.Admin.PauseQueueAsync("q-10");

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => host.Admin.GetQueuesAsync(50, cursor));

        Assert.Equal("cursor", refused.ParamName);
        Assert.Contains($"'{cursor}'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("page of queues", refused.Message, StringComparison.Ordinal);
        Assert.Contains("or none for the first page", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.Admin.GetQueuesAsync(0, null));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.Admin.GetQueuesAsync(JobQuery.MaxLimit + 1, null));
    }
}
