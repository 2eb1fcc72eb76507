using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>The plan tests' data source: every call on one server session, which prepares what it runs again.</summary>
internal static class PlanTestSessions
{
    /// <summary>
    /// A data source of one pooled connection, with Npgsql's automatic preparation (<c>Max Auto Prepare=64;Auto Prepare
    /// Min Usages=2</c>, or room for <paramref name="maxAutoPrepare"/> statements) when <paramref name="autoPrepare"/>, else
    /// only what the driver prepares itself.
    /// </summary>
    public static NpgsqlDataSource OneSession(PostgresFixture fixture, bool autoPrepare, int maxAutoPrepare = 64) => fixture.CreateDataSource(b =>
    {
        b.MaxPoolSize = 1;
        if (autoPrepare)
        {
            (b.MaxAutoPrepare, b.AutoPrepareMinUsages) = (maxAutoPrepare, 2);
        }
    });

    /// <summary>
    /// The generic and custom runs of the prepared statements of <paramref name="session"/>'s one pooled connection whose
    /// text matches every one of <paramref name="like"/> (LIKE patterns).
    /// </summary>
    public static async Task<PreparedRuns> PreparedRunsAsync(NpgsqlDataSource session, params string[] like)
    {
        await using var command = session.CreateCommand(
            "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) FROM pg_prepared_statements WHERE statement LIKE ALL ($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = like });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return new PreparedRuns(Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>How often a session ran its matching prepared statements with a generic plan and with custom plans.</summary>
internal readonly record struct PreparedRuns(long Generic, long Custom)
{
    /// <summary>Whether the session ran any of them prepared.</summary>
    public bool Any => Generic + Custom > 0;

    public override string ToString() => $"{Generic} generic, {Custom} custom runs";
}
