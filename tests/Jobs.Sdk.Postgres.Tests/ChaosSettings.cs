namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The chaos tests' knobs: each reads an environment variable (<c>JOBS_CHAOS_SEED</c>, <c>JOBS_CHAOS_EVENTS</c>,
/// <c>JOBS_CHAOS_PREFETCH</c>, ...) and falls back to the test's default, so that a test is also a soak run by hand.
/// </summary>
internal static class ChaosSettings
{
    public static int Get(string name, int fallback)
        => int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;
}
