using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A bulk command by filters (<c>jobs delete --queue busy</c>) acts on the jobs queued when the operator ran it, as the
/// dashboard's bulk actions do: jobs pushed while its batches run are left alone (on a busy queue the batches would
/// otherwise never catch up with the pushes, and the command would act on work queued after it was typed). The test holds
/// a row of the first batch locked, pushes a job while the command waits for that lock, then lets it go on: no sleeps.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BulkPushedDuringTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Rows = 1_500; // more than one batch (JobAdmin.BatchSize)
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task A_bulk_delete_by_filters_leaves_a_job_pushed_while_its_batches_run()
    {
        await using (var seed = _db.DataSource.CreateCommand($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload)
            SELECT gen_random_uuid(), 'busy', 'plan', jsonb_build_object('n', g) FROM generate_series(1, {Rows}) g
            """))
        {
            await seed.ExecuteNonQueryAsync();
        }

        // The first job of the first batch is locked: the command's first delete waits for it.
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        await using var holding = await connection.BeginTransactionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand($"""SELECT id FROM "{_db.Name}".jobs WHERE queue_name = 'busy' ORDER BY id LIMIT 1 FOR UPDATE""",
            connection, holding))
        {
            await hold.ExecuteScalarAsync();
        }

        var delete = _db.RunAsync(1, ["delete", "--queue", "busy", "--json"]);
        // Polls the database for the condition (no timing): the command's backend waits for a lock on the schema's jobs.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!delete.IsCompleted && await _db.ScalarAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%\"{_db.Name}\".jobs%'") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the bulk delete never waited for the locked job");
            await Task.Delay(20);
        }

        // A job of the queue pushed now (after the command started; its id after every other, so a later batch would find it).
        var late = Guid.Parse("ffffffff-ffff-7fff-bfff-ffffffffffff");
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload) VALUES ('{late}', 'busy', 'plan', jsonb_build_object('late', true))
            """);
        await holding.CommitAsync();

        var result = await delete;
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(await _db.ScalarAsync($"SELECT count(*) FROM \"{_db.Name}\".jobs WHERE id = '{late}'") == 1,
            $"the job pushed while the bulk delete ran was deleted by it ({result.Out.Trim()})");
        Assert.Equal(Rows, result.Json.GetProperty("changed").GetInt32());
    }
}
