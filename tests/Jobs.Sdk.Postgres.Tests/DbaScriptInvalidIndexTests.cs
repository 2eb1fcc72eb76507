using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The DBA's script (<see cref="PostgresJobMigrations.GetScript(string)"/>, <c>jobs migrate --script</c>) run with psql
/// over a migration step that builds an index concurrently: a build that fails part-way leaves the index behind, invalid
/// (never used by a plan, still written by every insert and update), and <c>IF NOT EXISTS</c> takes it for built. The
/// service's own path drops such an index before it builds it again (<c>NoTransactionStep</c>); the script must too.
/// A database of its own: a concurrent build waits for every older transaction of its database, other tests' included.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DbaScriptInvalidIndexTests(PostgresFixture fixture)
{
    private const string StepName = "9999_unique_name_probe";

    [Fact]
    public async Task The_dba_script_run_again_builds_an_index_a_failed_concurrent_build_left_invalid()
    {
        await using var database = await ScratchDatabase.CreateAsync(fixture, "cicscript");
        await using var dataSource = database.CreateDataSource();
        var schema = "cics_" + Guid.NewGuid().ToString("N")[..10];
        await PostgresJobMigrations.ApplyAsync(dataSource, schema);
        var migrations = PostgresJobMigrations.GetMigrations(schema).ToList();
        migrations.Add(MigrationMarkers.Build(migrations.Count + 1, StepName, $"""
            -- jobs:no-transaction
            CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS jobs_name_probe_idx ON "{schema}".jobs (name);
            """, [.. migrations.Select(m => (m.Name, m.Sql)), (StepName, "")]));
        var script = PostgresJobMigrations.BuildScript(schema, migrations);

        // Two jobs of one name: the unique build fails in its last phase, after it committed the index (invalid), as a
        // cancel, a crash or a deadlock during the build would leave it.
        await dataSource.ExecAsync($"INSERT INTO \"{schema}\".jobs (id, queue_name, name, payload) SELECT gen_random_uuid(), 'q', 'same', '{{}}' FROM generate_series(1, 2)");
        var failed = await Assert.ThrowsAsync<PostgresException>(() => PsqlScript.RunAsync(dataSource, script));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, failed.SqlState);
        Assert.Equal("invalid", await IndexStateAsync(dataSource, schema));

        // The DBA removes the cause and runs the script again.
        await dataSource.ExecAsync($"UPDATE \"{schema}\".jobs SET name = 'other' WHERE id = (SELECT min(id::text)::uuid FROM \"{schema}\".jobs)");
        await PsqlScript.RunAsync(dataSource, script);

        var state = await IndexStateAsync(dataSource, schema);
        var recorded = await dataSource.ScalarAsync($"SELECT count(*) FROM \"{schema}\".schema_migrations WHERE name = '{StepName}'");
        Assert.True(state == "valid",
            $"The DBA script, run again after a concurrent build that failed part-way, left index jobs_name_probe_idx {state} " +
            $"(step {StepName} recorded: {recorded == 1}): IF NOT EXISTS took the invalid index for built, and the queue reads without it");

        // Once more: nothing to build, nothing left behind.
        await PsqlScript.RunAsync(dataSource, script);
        Assert.Equal("valid", await IndexStateAsync(dataSource, schema));
        Assert.Equal(1L, recorded);
        Assert.Equal(0L, await dataSource.ScalarAsync($"""
            SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = '{schema}' AND NOT i.indisvalid
            """));
    }

    /// <summary>"valid", "invalid" or "missing".</summary>
    private static async Task<string> IndexStateAsync(NpgsqlDataSource dataSource, string schema)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT CASE WHEN i.indisvalid THEN 'valid' ELSE 'invalid' END FROM pg_index i WHERE i.indexrelid = to_regclass('\"{schema}\".jobs_name_probe_idx')");
        return await command.ExecuteScalarAsync() as string ?? "missing";
    }
}
