using Jobs.Sdk;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.IntegrationTests;

/// <summary>Generated queue and unique-key members (issue 16), through JobQueue on the in-memory driver.</summary>
public class FlowTests
{
    [Fact]
    public void Generated_members_carry_the_attribute_settings_and_key_members()
    {
        var id = Guid.Parse("7d2a1e4c-8f0b-4a6d-9c3e-1b2f3a4d5e6f");
        Assert.Equal("it-mail", QueueOf<SendMail>());
        Assert.True(UniqueOf<SyncAccount>());
        Assert.Equal(3600, UniqueForOf<SyncAccount>());
        Assert.Equal("7d2a1e4c8f0b4a6d9c3e1b2f3a4d5e6f\u001f1", KeyOf(new SyncAccount(id, Level.High, DateTimeOffset.UnixEpoch)));
        Assert.Equal("7d2a1e4c8f0b4a6d9c3e1b2f3a4d5e6f\u001f\0", KeyOf(new SyncAccount(id, null, DateTimeOffset.UnixEpoch)));
        Assert.Null(KeyOf(new Rebuild("i", 1)));
        Assert.Null(QueueOf<Rebuild>());
        Assert.False(UniqueOf<SendMail>());
    }

    [Fact]
    public void Generated_concurrency_keys_are_scoped_by_job_name_and_default_to_it()
    {
        Assert.Equal(1, LimitOf<ImportFile>());
        Assert.Equal("it.import-file:tenant-a\u001f7", ConcurrencyKeyOf(new ImportFile("tenant-a", 7, "/x")));
        Assert.Equal("it.import-file:tenant-a\u001f\0", ConcurrencyKeyOf(new ImportFile("tenant-a", null, "/y")));
        Assert.Equal(2, LimitOf<Render>());
        Assert.Equal("it.render", ConcurrencyKeyOf(new Render(3)));
        Assert.Null(LimitOf<SendMail>());
    }

    [Fact]
    public async Task Equal_date_and_time_key_members_give_one_key_whatever_the_pushers_offset_or_time_zone()
    {
        await using var provider = new ServiceCollection().AddJobs(jobs => jobs.UseInMemory()).BuildServiceProvider();
        var queue = provider.GetRequiredService<JobQueue>();
        var from = new DateTimeOffset(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
        var inBerlin = from.ToOffset(TimeSpan.FromHours(1));           // the same instant, as DateTimeOffset.Now gives it in Berlin
        var today = new DateTime(2026, 12, 3, 0, 0, 0, DateTimeKind.Local); // DateTime.Today: its "O" text carries this machine's offset
        var unspecified = DateTime.SpecifyKind(today, DateTimeKind.Unspecified);
        Assert.Equal(from, inBerlin);
        Assert.Equal(today, unspecified);

        Assert.Equal(KeyOf(new PeriodReport(from, unspecified, "a")), KeyOf(new PeriodReport(inBerlin, today, "b")));
        var first = await queue.TryPushAsync(new PeriodReport(from, unspecified, "a"));
        Assert.Equal(new JobPushResult(first.Id, false), await queue.TryPushAsync(new PeriodReport(inBerlin, today, "b")));
        Assert.True((await queue.TryPushAsync(new PeriodReport(from.AddTicks(1), today, "c"))).Inserted);

        // Keys already stored keep their text: UTC offsets and DateTime values of kind Utc or Unspecified are written as before.
        Assert.Equal("2026-12-03T08:00:00.0000000+00:00\u001f2026-12-03T00:00:00.0000000", KeyOf(new PeriodReport(from, unspecified, "a")));
        Assert.EndsWith("\u001f2026-12-03T00:00:00.0000000Z", KeyOf(new PeriodReport(from, DateTime.SpecifyKind(today, DateTimeKind.Utc), "a")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pushes_go_to_the_type_queue_and_unique_keys_hold()
    {
        await using var provider = new ServiceCollection().AddJobs(jobs => jobs.UseInMemory()).BuildServiceProvider();
        var queue = provider.GetRequiredService<JobQueue>();

        var mail = await queue.PushAsync(new SendMail("a@example.com"));
        Assert.Equal("it-mail", (await queue.GetJobAsync(mail))!.QueueName);
        var elsewhere = await queue.PushAsync(new SendMail("b@example.com"), new JobOptions { Queue = "other" });
        Assert.Equal("other", (await queue.GetJobAsync(elsewhere))!.QueueName);

        var account = Guid.NewGuid();
        var first = await queue.TryPushAsync(new SyncAccount(account, Level.Low, DateTimeOffset.UnixEpoch));
        var sameKey = await queue.TryPushAsync(new SyncAccount(account, Level.Low, DateTimeOffset.UnixEpoch.AddDays(1)));
        var otherRegion = await queue.TryPushAsync(new SyncAccount(account, Level.High, DateTimeOffset.UnixEpoch));
        Assert.True(first.Inserted);
        Assert.Equal(new JobPushResult(first.Id, false), sameKey);
        Assert.True(otherRegion.Inserted);

        Assert.True((await queue.TryPushAsync(new Rebuild("users", 1))).Inserted);
        Assert.False((await queue.TryPushAsync(new Rebuild("users", 1))).Inserted);
        Assert.True((await queue.TryPushAsync(new Rebuild("users", 2))).Inserted);
        // A per-push key makes any push unique.
        var keyed = await queue.TryPushAsync(new SendMail("c@example.com"), new JobOptions { UniqueKey = "welcome:c" });
        Assert.Equal(new JobPushResult(keyed.Id, false), await queue.TryPushAsync(new SendMail("other@example.com"), new JobOptions { UniqueKey = "welcome:c" }));
    }

    [Fact]
    public async Task Key_marks_on_a_class_constructor_parameter_key_by_that_member_only()
    {
        Assert.Equal("tenant-a", KeyOf(new SyncTenant("tenant-a", 1)));
        Assert.Equal("it.sync-tenant:tenant-a", ConcurrencyKeyOf(new SyncTenant("tenant-a", 1)));

        await using var provider = new ServiceCollection().AddJobs(jobs => jobs.UseInMemory()).BuildServiceProvider();
        var queue = provider.GetRequiredService<JobQueue>();
        var first = await queue.TryPushAsync(new SyncTenant("tenant-a", 1));
        Assert.True(first.Inserted);
        Assert.Equal(new JobPushResult(first.Id, false), await queue.TryPushAsync(new SyncTenant("tenant-a", 2)));
        Assert.True((await queue.TryPushAsync(new SyncTenant("tenant-b", 1))).Inserted);
    }

    private static string? QueueOf<T>() where T : IJob<T> => T.Queue;
    private static bool UniqueOf<T>() where T : IJob<T> => T.Unique;
    private static int UniqueForOf<T>() where T : IJob<T> => T.UniqueForSeconds;
    private static string? KeyOf<T>(T job) where T : IJob<T> => T.GetUniqueKey(job);
    private static int? LimitOf<T>() where T : IJob<T> => T.ConcurrencyLimit;
    private static string ConcurrencyKeyOf<T>(T job) where T : IJob<T> => T.GetConcurrencyKey(job);
}
