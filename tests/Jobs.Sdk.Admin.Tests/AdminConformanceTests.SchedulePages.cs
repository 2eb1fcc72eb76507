using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Admin.Tests;

/// <summary>
/// <see cref="JobAdmin.GetSchedulesAsync(int, string?, CancellationToken)"/> on every driver: each driver reads a page of
/// the entries from its store (after the last entry of the page before), and the pages are the same on both: by queue, then
/// entry key (ordinal), across queues, each entry once, with the same cursors.
/// </summary>
public abstract partial class AdminConformanceTests
{
    [Fact]
    public async Task Pages_of_schedule_entries_list_each_entry_once_by_queue_then_key_across_queues()
    {
        await using var host = CreateHost();
        var admin = host.Admin;
        // Queues and keys whose ordinal order differs from a linguistic one ('B' before 'a', '-' before '_'); a queue that
        // is a prefix of another ("b" of "b-2").
        (string Queue, string Key)[] entries =
        [
            ("b-2", "k1"), ("B", "k2"), ("a", "Z"), ("a", "z"), ("a", "a-1"), ("a", "a_1"), ("b", "k3"), ("b-2", "A"), ("b", "K4"),
        ];
        await admin.Store.PublishSchedulesAsync([.. entries.Select(e => new ScheduleRegistration
        {
            QueueName = e.Queue, EntryKey = e.Key, JobName = "report", Description = "hourly", Payload = "{}"u8.ToArray(),
            NextFireAt = DateTimeOffset.UtcNow.AddHours(1), TimeToLive = TimeSpan.FromMinutes(5),
        })], default);

        var listed = new List<(string, string)>();
        var cursors = new List<string>();
        string? cursor = null;
        do
        {
            var page = await admin.GetSchedulesAsync(2, cursor);
            Assert.True(page.Items.Count <= 2);
            listed.AddRange(page.Items.Select(e => (e.QueueName, e.EntryKey)));
            cursor = page.NextCursor;
            if (cursor is not null)
            {
                cursors.Add(cursor);
            }
        }
        while (cursor is not null && cursors.Count < 10);

        var expected = entries.OrderBy(e => e.Queue, StringComparer.Ordinal).ThenBy(e => e.Key, StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, listed);
        // The cursors a page read from the store gives are the ones a page cut from the whole list gives.
        var whole = await admin.GetSchedulesAsync();
        Assert.Equal(cursors, Enumerable.Range(1, cursors.Count).Select(i => SchedulePage.Of(whole, i == 1 ? null : cursors[i - 2], 2).NextCursor));
    }
}
