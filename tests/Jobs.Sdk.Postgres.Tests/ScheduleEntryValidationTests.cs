using System.Text.Json;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A schedule entry whose key or job no store can hold is refused when the schedule is built ("fail now, not at 3 a.m."):
/// its scheduler used to retry the entry's store write forever (22021 for a NUL, 54000 for a key too long to index), or
/// stop the entry at its first fire with only a log line (a concurrency key too long), and the job was never pushed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScheduleEntryValidationTests(PostgresFixture fixture)
{
    private static readonly DateTimeOffset Start = new(2031, 3, 1, 10, 0, 30, TimeSpan.Zero); // future of the database clock: nothing is due

    [Theory]
    [InlineData("NUL")]
    [InlineData("high surrogate alone")]
    [InlineData("3,200 bytes")]
    public async Task An_entry_key_no_store_can_hold_is_refused_when_the_schedule_is_built(string kind)
    {
        // Named, not passed: xUnit turns an unpaired surrogate in theory data into U+FFFD.
        var key = kind switch
        {
            "NUL" => "nightly\0",
            "high surrogate alone" => "nightly \uD83D",
            _ => RandomText.Of(3_200),
        };

        var error = await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await using var node = PostgresSchedulerNode.Create(fixture, "jobs_test", NewQueue(), Start, s => s.Add(new ValueJob(1), Schedule.EveryMinute(), key: key));
            await node.StartAsync();
        });
        Assert.Equal("key", error.ParamName);
    }

    [Theory]
    [InlineData("nightly ")]
    [InlineData("\nnightly")]
    public async Task An_entry_key_with_whitespace_at_either_end_is_refused_when_the_schedule_is_built(string key)
    {
        // It used to be another key than 'nightly': `jobs schedule pause nightly` and the dashboard's filter did not find it.
        var error = await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await using var node = PostgresSchedulerNode.Create(fixture, "jobs_test", NewQueue(), Start, s => s.Add(new ValueJob(1), Schedule.EveryMinute(), key: key));
            await node.StartAsync();
        });
        Assert.Equal("key", error.ParamName);
        Assert.Contains("whitespace", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scheduled_job_whose_concurrency_key_no_store_can_hold_is_refused_when_the_schedule_is_built()
    {
        var error = Assert.Throws<ArgumentException>(() => new JobSchedule().Add(new TenantJob(RandomText.Of(3_200)), Schedule.EveryMinute()));
        Assert.Equal("job", error.ParamName);
        Assert.Contains("1000 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_longest_entry_key_fires_in_the_queue_with_the_longest_name()
    {
        var key = RandomText.Of(1_000);
        var queue = RandomText.Of(1_000);
        var node = PostgresSchedulerNode.Create(fixture, "jobs_test", queue, Start, s => s.Add(new ValueJob(1), Schedule.EveryMinute(), key: key));
        await using (node)
        {
            await node.StartAsync();
            await node.SettledAsync();
            node.Time.Advance(TimeSpan.FromMinutes(1));
            await node.SettledAsync();

            Assert.Equal(1, node.Probe.PushedCount(key));
            Assert.Equal(0, node.Probe.RetryCount);
        }
    }

    private static string NewQueue() => "schedkey_" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>A job limited to one at a time per tenant (its concurrency key).</summary>
    private sealed record TenantJob(string Tenant) : IJob<TenantJob>
    {
        public static string JobName => "test.schedule-tenant";

        public static int? ConcurrencyLimit => 1;

        public static string GetConcurrencyKey(TenantJob job) => job.Tenant;

        public static void Serialize(Utf8JsonWriter writer, TenantJob job)
        {
            writer.WriteStartObject();
            writer.WriteString("tenant", job.Tenant);
            writer.WriteEndObject();
        }

        public static TenantJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(JsonDocument.Parse(utf8Json.ToArray()).RootElement.GetProperty("tenant").GetString()!);
    }
}
