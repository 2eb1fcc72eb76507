using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The claim is a prepared statement, and PostgreSQL re-plans a prepared statement on every execution as long as it
/// estimates its custom plans cheaper than its generic plan. The claim's custom plans see the claim's size (<c>LIMIT $2</c>,
/// a few jobs) while the generic plan assumes a tenth of the queue, so every claim was planned again (issue 15: about half
/// a millisecond of server CPU per claim in the drain). The driver now runs it with its generic plan, which is the same
/// plan (<see cref="PlanTests"/> checks both).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClaimPlanCacheTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Claims_on_one_connection_run_one_generic_plan_instead_of_planning_each_claim()
    {
        const string Schema = "jobs_claim_plan_cache";
        const int Claims = 8;
        const int PerClaim = 16;
        // One pooled connection: every claim runs on the same server session, whose prepared statements we can inspect.
        await using var ds = fixture.CreateDataSource(b => b.MaxPoolSize = 1);
        await using var q = await TestQueue.CreateAsync(fixture, b => { }, driver: o => o.Schema = Schema, dataSource: ds);
        await ds.ExecAsync($"TRUNCATE {Schema}.jobs");
        await q.Queue.PushManyAsync(Enumerable.Range(0, 2000).Select(i => new ValueJob(i)));
        await ds.ExecAsync($"ANALYZE {Schema}.jobs");

        var tokens = new List<Guid>();
        for (var i = 0; i < Claims; i++)
        {
            var claimed = await q.Driver.ClaimAsync(new JobClaimRequest("w", PerClaim, Minute), CancellationToken.None);
            Assert.Equal(PerClaim, claimed.Count);
            tokens.AddRange(claimed.Select(c => c.LeaseToken));
        }

        await using (var connection = await ds.OpenConnectionAsync())
        await using (var command = new Npgsql.NpgsqlCommand(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%WITH next AS MATERIALIZED%'", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync(), "the claim is not a prepared statement of the session");
            var (generic, custom) = (reader.GetInt64(0), reader.GetInt64(1));
            Assert.True(custom == 0 && generic == Claims, $"{Claims} claims: {custom} custom plans (each one planned again), {generic} runs of the generic plan");
            Assert.False(await reader.ReadAsync());
        }

        // Each claimed job got a lease token of its own (drawn by the driver), and the table holds it.
        Assert.Equal(Claims * PerClaim, tokens.Distinct().Count());
        Assert.DoesNotContain(Guid.Empty, tokens);
        Assert.Equal(Claims * PerClaim, await ds.ScalarAsync($$"""
            SELECT count(*) FROM {{Schema}}.jobs WHERE state = 1 AND lease_token = ANY('{{{string.Join(',', tokens)}}}'::uuid[])
            """));
    }
}
