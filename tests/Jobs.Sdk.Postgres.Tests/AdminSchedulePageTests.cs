using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <see cref="JobAdmin.GetSchedulesAsync(int, string?, CancellationToken)"/> over 5,000 published entries: pages by queue
/// then entry key (ordinal), each entry once, as the dashboard and <c>jobs schedules</c> page them.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AdminSchedulePageTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Entries = 5_000;
    private readonly MigratedSchema _db = new(fixture, "spage_");

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task Pages_of_500_list_each_of_5000_entries_once_by_queue_then_key_and_end_without_a_cursor()
    {
        var store = new PostgresJobAdminStore(_db.DataSource, _db.Name);
        // Two queues, keys whose ordinal order differs from a linguistic one ('B' before 'a', '-' before '_').
        var keys = Enumerable.Range(0, Entries).Select(i => (Queue: i % 2 == 0 ? "reports" : "Billing", Key: $"{(i % 3 == 0 ? "B" : "a")}{(i % 5 == 0 ? "-" : "_")}{i}")).ToArray();
        await store.PublishSchedulesAsync(keys.Select(k => new ScheduleRegistration
        {
            QueueName = k.Queue, EntryKey = k.Key, JobName = "report", Description = "hourly", Payload = "{}"u8.ToArray(),
            NextFireAt = DateTimeOffset.UtcNow.AddHours(1), TimeToLive = TimeSpan.FromSeconds(30),
        }).ToArray(), default);
        var admin = new JobAdmin(store);

        var listed = new List<(string, string)>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await admin.GetSchedulesAsync(500, cursor);
            Assert.True(page.Items.Count <= 500);
            listed.AddRange(page.Items.Select(e => (e.QueueName, e.EntryKey)));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null && pages < 20);

        Assert.Equal(10, pages);
        var expected = keys.OrderBy(k => k.Queue, StringComparer.Ordinal).ThenBy(k => k.Key, StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, listed);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => admin.GetSchedulesAsync(0, null));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => admin.GetSchedulesAsync(JobQuery.MaxLimit + 1, null));
        await Assert.ThrowsAsync<ArgumentException>(() => admin.GetSchedulesAsync(50, "not a cursor!"));
    }
}
