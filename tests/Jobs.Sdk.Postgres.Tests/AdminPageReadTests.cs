using System.Buffers.Text;
using System.Diagnostics;
using System.Text;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.Testing;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <see cref="JobAdmin.GetQueuesAsync(int, string?, CancellationToken)"/> and
/// <see cref="JobAdmin.GetSchedulesAsync(int, string?, CancellationToken)"/> read one page from PostgreSQL, not the whole
/// list: a page of 20 of 3,000 queues read every queue with its counts, oldest waiting job and workers (and a page of 20
/// schedule entries every entry with its last fire), and JobAdmin cut the page from it. Judged by the bytes PostgreSQL
/// sent the page's data source (Npgsql's metrics, as an app's metrics see them): a few kilobytes for a page, not hundreds
/// for the whole list.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AdminPageReadTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Queues = 3_000;
    private const int Page = 20;

    /// <summary>What a page of 20 may read: 20 rows of a few dozen bytes, the total, and a new connection's start-up.</summary>
    private const long PageBytes = 16 * 1024;

    /// <summary>The Application Name of the pages' data source: its pool's name in Npgsql's metrics.</summary>
    private readonly string _pool = "srvpage-" + Guid.NewGuid().ToString("N")[..10];
    private readonly MigratedSchema _db = new(fixture, "srvpage_");

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task A_page_of_20_of_3000_queues_reads_a_page_of_rows_and_keeps_its_cursor_and_total()
    {
        // 3,000 queues, each with a due job and a completed one (two count rows each); every 7th queue is paused too.
        await _db.DataSource.ExecAsync($"""
            INSERT INTO {_db.S}.jobs (id, queue_name, name, payload, state, run_at)
            SELECT gen_random_uuid(), 'q-' || lpad(g::text, 4, '0'), 'page', '{"{}"}', s, now() - interval '1 minute'
            FROM generate_series(1, {Queues}) g, (VALUES (0::smallint), (3::smallint)) AS v(s);
            INSERT INTO {_db.S}.queues (name, paused, reason, paused_at, updated_at)
            SELECT 'q-' || lpad(g::text, 4, '0'), true, 'seventh', now(), now() FROM generate_series(7, {Queues}, 7) g;
            ANALYZE {_db.S}.job_state_counts;
            """);
        await using var dataSource = fixture.CreateDataSource(b => b.ApplicationName = _pool);
        var admin = new JobAdmin(new PostgresJobAdminStore(dataSource, _db.Name));
        var expected = Enumerable.Range(1, Queues).Select(i => $"q-{i:D4}").ToArray();

        using var reads = new ServerReads(_pool, _db.Name);
        var first = await admin.GetQueuesAsync(Page, null);
        var read = reads.Take();

        Assert.Equal(expected[..Page], first.Items.Select(q => q.Name));
        Assert.Equal(Queues, first.Total);
        Assert.Equal(Cursor(expected[Page - 1]), first.NextCursor);
        var seventh = first.Items.Single(q => q.Name == "q-0007");
        Assert.True(seventh.IsPaused);
        Assert.Equal("seventh", seventh.PausedReason);
        Assert.All(first.Items, q => Assert.Equal((1, 1), (q.Counts.Pending, q.Counts.Completed)));
        Assert.All(first.Items, q => Assert.NotNull(q.OldestWaitingAge));
        // A page of 20 queues: their count rows (2 each), oldest waiting jobs, pauses and the total; not 3,000 queues' worth.
        Assert.True(read.Bytes <= PageBytes, $"a page of {Page} of {Queues} queues read {read.Bytes:N0} bytes from PostgreSQL in {read.Statements} statement(s)");

        var second = await admin.GetQueuesAsync(Page, first.NextCursor);
        Assert.Equal(expected[Page..(2 * Page)], second.Items.Select(q => q.Name));
        Assert.Equal(Queues, second.Total);
        var last = await admin.GetQueuesAsync(Page, Cursor(expected[^(Page / 2 + 1)]));
        Assert.Equal(expected[^(Page / 2)..], last.Items.Select(q => q.Name));
        Assert.Null(last.NextCursor);
        var next = reads.Take();
        Assert.True(next.Bytes <= 2 * PageBytes, $"the second and last pages read {next.Bytes:N0} bytes from PostgreSQL");

        // A cursor no page gave is refused before the store is read.
        await Assert.ThrowsAsync<ArgumentException>(() => admin.GetQueuesAsync(Page, "not a cursor!"));
        Assert.Equal((0, 0L), reads.Take());
    }

    [Fact]
    public async Task A_page_of_20_of_3000_schedule_entries_reads_a_page_of_rows_and_keeps_its_cursor()
    {
        await using var dataSource = fixture.CreateDataSource(b => b.ApplicationName = _pool);
        var store = new PostgresJobAdminStore(dataSource, _db.Name);
        var entries = Enumerable.Range(1, Queues).Select(i => (Queue: i % 2 == 0 ? "reports" : "Billing", Key: $"e-{i:D4}")).ToArray();
        await store.PublishSchedulesAsync([.. entries.Select(e => new ScheduleRegistration
        {
            QueueName = e.Queue, EntryKey = e.Key, JobName = "report", Description = "hourly", Payload = "{}"u8.ToArray(),
            NextFireAt = DateTimeOffset.UtcNow.AddHours(1), TimeToLive = TimeSpan.FromMinutes(5),
        })], default);
        var admin = new JobAdmin(store);
        var expected = entries.OrderBy(e => e.Queue, StringComparer.Ordinal).ThenBy(e => e.Key, StringComparer.Ordinal).ToArray();

        using var reads = new ServerReads(_pool, _db.Name);
        var first = await admin.GetSchedulesAsync(Page, null);
        var read = reads.Take();

        Assert.Equal(expected[..Page], first.Items.Select(e => (e.QueueName, e.EntryKey)));
        Assert.Equal(Cursor(expected[Page - 1].Queue + "\0" + expected[Page - 1].Key), first.NextCursor);
        Assert.True(read.Bytes <= PageBytes, $"a page of {Page} of {Queues} schedule entries read {read.Bytes:N0} bytes from PostgreSQL in {read.Statements} statement(s)");

        var second = await admin.GetSchedulesAsync(Page, first.NextCursor);
        Assert.Equal(expected[Page..(2 * Page)], second.Items.Select(e => (e.QueueName, e.EntryKey)));
        // Across the two queues: the last entries of "Billing", then the first of "reports".
        var across = await admin.GetSchedulesAsync(4, Cursor(expected[Queues / 2 - 3].Queue + "\0" + expected[Queues / 2 - 3].Key));
        Assert.Equal(expected[(Queues / 2 - 2)..(Queues / 2 + 2)], across.Items.Select(e => (e.QueueName, e.EntryKey)));
        var next = reads.Take();
        Assert.True(next.Bytes <= 2 * PageBytes, $"the next two pages read {next.Bytes:N0} bytes from PostgreSQL");

        await Assert.ThrowsAsync<ArgumentException>(() => admin.GetSchedulesAsync(Page, "not a cursor!"));
        Assert.Equal((0, 0L), reads.Take());
    }

    /// <summary>The cursor a page ending with <paramref name="key"/> gives (its UTF-8, Base64Url), as the pager writes it.</summary>
    private static string Cursor(string key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key));

    /// <summary>
    /// What PostgreSQL sent this test's data source (Npgsql's <c>db.client.operation.npgsql.bytes_read</c> metric, as an
    /// app's metrics see it, for the pool whose name holds the test's Application Name) and the statements of its schema
    /// (Npgsql's tracing, filtered by the schema's name in the statement's text): the listeners hear the whole test process.
    /// </summary>
    private sealed class ServerReads : IDisposable
    {
        private readonly NpgsqlBytesRead _bytes;
        private readonly ActivityListener _statements;
        private int _ran;

        public ServerReads(string pool, string schema)
        {
            _bytes = new NpgsqlBytesRead(pool);
            _statements = new ActivityListener
            {
                ShouldListenTo = s => s.Name == "Npgsql",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = a =>
                {
                    if (a.GetTagItem("db.query.text") is string text && text.Contains(schema, StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref _ran);
                    }
                },
            };
            ActivitySource.AddActivityListener(_statements);
            Take();
        }

        /// <summary>The statements that ran and the bytes read since the last call.</summary>
        public (int Statements, long Bytes) Take() => (Interlocked.Exchange(ref _ran, 0), _bytes.Take());

        public void Dispose()
        {
            _statements.Dispose();
            _bytes.Dispose();
        }
    }
}
