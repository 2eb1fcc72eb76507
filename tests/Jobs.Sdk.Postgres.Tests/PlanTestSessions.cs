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
}
