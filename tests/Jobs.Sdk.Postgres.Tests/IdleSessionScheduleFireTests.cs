using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A scheduler's fire of a unique job (its key released and the job pushed in one round trip) after a quiet spell longer
/// than the database's <c>idle_session_timeout</c>: the pooled connection it took had been ended by the server while it
/// idled (57P05, nothing ran). The fire is stored on a new connection instead of failing (the scheduler logged the store
/// failure and fired again only after its retry delay).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IdleSessionScheduleFireTests(PostgresFixture fixture) : IAsyncLifetime
{
    private ScratchDatabase? _database;

    public async Task InitializeAsync()
    {
        _database = await ScratchDatabase.CreateAsync(fixture, "idlefire");
        await _database.SetAsync("idle_session_timeout = '300ms'");
    }

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task A_unique_fire_on_a_pooled_connection_the_server_ended_while_idle_is_pushed()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<UniqueValueJob>((_, _, _) => Task.CompletedTask),
            dataSource: _database!.CreateDataSource());
        IJobScheduleStore store = q.Driver;
        var job = new JobPushRecord
        {
            Id = JobId.New(), Name = UniqueValueJob.JobName, Payload = "{\"value\":1}"u8.ToArray(), UniqueKey = "idle-fire",
            RunAt = DateTimeOffset.UtcNow,
        };

        await _database.IdleSessionsEndedAsync();
        var fired = await store.PushScheduledAsync("idle-entry", DateTimeOffset.UtcNow, job, CancellationToken.None);

        Assert.Equal(new ScheduledFireResult(ScheduledFireOutcome.Pushed, job.Id), fired);
    }
}
