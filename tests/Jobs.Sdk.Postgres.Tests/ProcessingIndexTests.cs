using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Issue 16: a claim rewrites each row it takes, and the new row version enters every index whose predicate it matches.
/// A claimed keyed row entered <c>jobs_concurrency_key_idx</c> once more (and <c>jobs_queue_state_idx</c>), one index
/// entry more than an unkeyed claim, with its WAL and vacuum's work: the 1,000-key drain ran at 0.82x of the unkeyed one.
/// Processing rows now have an index of their own (<c>jobs_processing_idx</c>), which every claimed row enters instead.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ProcessingIndexTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Claiming_keyed_jobs_adds_nothing_to_the_key_index()
    {
        const int Jobs = 3_000;
        var schema = new MigratedSchema(fixture, "procidx_");
        await schema.InitializeAsync();
        try
        {
            await using var driver = new PostgresJobDriver(schema.DataSource, new PostgresJobDriverOptions { Schema = schema.Name, QueueName = "keyed" });
            await driver.WaitUntilReadyAsync(default);
            // 3,000 jobs over 1,000 keys, a limit of 3 per key: every one is admitted, so every one is claimable at once.
            for (var batch = 0; batch < Jobs / 1_000; batch++)
            {
                await driver.PushAsync(
                    [.. Enumerable.Range(0, 1_000).Select(i => new JobPushRecord
                    {
                        Id = JobId.New(), Name = "keyed", Payload = "{}"u8.ToArray(), ConcurrencyKey = "key-" + i, ConcurrencyLimit = 3,
                    })],
                    null, default);
            }

            var index = $"{schema.S}.jobs_concurrency_key_idx";
            var before = await schema.DataSource.ScalarAsync($"SELECT pg_relation_size('{index}')");

            // A report's open snapshot (pg_dump, an analyst's REPEATABLE READ session) keeps the pending row versions the
            // claims leave behind, as any transaction older than the claims does: their key index entries cannot go yet.
            await using var report = await schema.DataSource.OpenConnectionAsync();
            await using var snapshot = await report.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
            await using (var read = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM {schema.S}.jobs", report, snapshot))
            {
                Assert.Equal(Jobs, (long)(await read.ExecuteScalarAsync())!);
            }

            // One worker takes them all and keeps them running (claims of 500, as an adaptive prefetch takes hundreds).
            var claimed = 0;
            while (claimed < Jobs)
            {
                var taken = await driver.ClaimAsync(new JobClaimRequest("w", 500, TimeSpan.FromHours(1)), CancellationToken.None);
                Assert.NotEmpty(taken);
                claimed += taken.Count;
            }

            Assert.Equal(Jobs, await schema.DataSource.ScalarAsync($"SELECT count(*) FROM {schema.S}.jobs WHERE state = 1"));
            var after = await schema.DataSource.ScalarAsync($"SELECT pg_relation_size('{index}')");
            Assert.True(after == before,
                $"claiming {Jobs} keyed jobs grew jobs_concurrency_key_idx from {before / 8192} to {after / 8192} pages: each claimed row's new version entered it");
        }
        finally
        {
            await schema.DisposeAsync();
        }
    }
}
