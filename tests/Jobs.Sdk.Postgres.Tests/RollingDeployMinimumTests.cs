namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The rolling-deploy contract an operator plans a deploy by: which older versions may keep running while this version
/// migrates. It follows from the migrations' <c>compatible_from</c> (the newest of them), so README.md must name it, and
/// must change when a migration raises it.
/// </summary>
public sealed class RollingDeployMinimumTests
{
    [Fact]
    public void The_readme_names_the_oldest_code_that_runs_against_a_schema_this_version_migrated()
    {
        var migrations = PostgresJobMigrations.GetMigrations();
        var oldest = migrations.Max(m => m.CompatibleFrom);
        var raisedBy = migrations.Where(m => m.CompatibleFrom == oldest && m.Version != oldest).Select(m => m.Name).ToArray();
        var sentence = $"The oldest code that runs against a schema this version migrated knows `{migrations[oldest - 1].Name}`";

        Assert.True(ReadmeTables.Read("README.md").Contains(sentence, StringComparison.Ordinal),
            $"README.md's Rolling deploys does not say which older versions keep running while this one migrates: code that knows " +
            $"{migrations[oldest - 1].Name} (the newest compatible_from, of {(raisedBy.Length == 0 ? "that migration itself" : string.Join(", ", raisedBy))}); " +
            $"expected the sentence '{sentence}'.");
    }
}
