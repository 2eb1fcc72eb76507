using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The two readers of <see cref="CountSql.ReadAll"/>, one row reader (<see cref="QueueCountRows"/>): the state gauge's
/// read of every queue and the admin API's queue list see the same counts, the gauge keeps a queue whose jobs are gone
/// (all 0: its series report 0) while the list leaves it out, and each compacts a queue it read from many delta rows.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class QueueCountReadersTests(PostgresFixture fixture)
{
    [Fact]
    public async Task The_gauge_and_the_queue_list_read_the_same_counts_and_each_compacts_a_queue_of_many_delta_rows()
    {
        await using var dataSource = fixture.CreateDataSource();
        var schema = "qcounts_" + Guid.NewGuid().ToString("N")[..8];
        await using var driver = new PostgresJobDriver(dataSource, new PostgresJobDriverOptions { Schema = schema, QueueName = "a", UseListenNotify = false });
        var admin = new JobAdmin(new PostgresJobAdminStore(dataSource, schema));
        await PushAsync(driver.ForQueue("a"), 3);
        await PushAsync(driver.ForQueue("gone"), 2);
        Assert.Equal(2, await admin.DeleteAsync(JobSelection.Matching(new JobQuery { Queue = "gone" })));

        // Past the compaction threshold in one queue, then read by the admin's list.
        await PushAsync(driver.ForQueue("many-admin"), CountSql.CompactAfter + 10);
        Assert.True(await DeltaRowsAsync("many-admin") > CountSql.CompactAfter);
        var listed = (await admin.GetQueuesAsync()).ToDictionary(q => q.Name, q => q.Counts);
        Assert.True(await DeltaRowsAsync("many-admin") <= 7, "the admin's queue list compacts a queue it read from many delta rows");

        // ... and in another, then read by the gauge.
        await PushAsync(driver.ForQueue("many-gauge"), CountSql.CompactAfter + 10);
        Assert.True(await DeltaRowsAsync("many-gauge") > CountSql.CompactAfter);
        var gauged = await ((IAllQueueStateCounts)driver).GetAllQueueCountsAsync(default);
        Assert.True(await DeltaRowsAsync("many-gauge") <= 7, "the gauge's read of every queue compacts a queue it read from many delta rows");

        Assert.Equal(["a", "many-admin"], listed.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["a", "gone", "many-admin", "many-gauge"], gauged.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new JobCounts { Pending = 3 }, listed["a"]);
        Assert.Equal(new JobCounts { Pending = CountSql.CompactAfter + 10 }, listed["many-admin"]);
        Assert.Equal(listed["a"], gauged["a"]);
        Assert.Equal(listed["many-admin"], gauged["many-admin"]);
        Assert.Equal(new JobCounts(), gauged["gone"]);
        Assert.Equal(new JobCounts { Pending = CountSql.CompactAfter + 10 }, gauged["many-gauge"]);

        Task<long> DeltaRowsAsync(string queue) => dataSource.ScalarAsync($"SELECT count(*) FROM \"{schema}\".job_state_counts WHERE queue_name = '{queue}'");
    }

    /// <summary>One statement per job: one delta row each.</summary>
    private static async Task PushAsync(IJobDriver queue, int jobs)
    {
        for (var i = 0; i < jobs; i++)
        {
            await queue.PushAsync([new JobPushRecord { Id = JobId.New(), Name = "x", Payload = "{}"u8.ToArray(), RunAt = DateTimeOffset.UtcNow.AddHours(1) }], null, default);
        }
    }
}
