using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The server connections of one application name, as <c>pg_stat_activity</c> sees them: for tests of how many connections
/// a host holds (its data source sets <c>ApplicationName</c>; <paramref name="observer"/>-style parameters are a data
/// source of the test's own, under another name).
/// </summary>
internal static class ServerConnections
{
    /// <summary>How many server connections <paramref name="app"/> has.</summary>
    public static async Task<long> CountAsync(NpgsqlDataSource observer, string app)
    {
        await using var command = observer.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1");
        command.Parameters.AddWithValue(app);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>One line per connection of <paramref name="app"/>: its pid, state and the start of its last statement.</summary>
    public static async Task<string> DescribeAsync(NpgsqlDataSource observer, string app)
    {
        await using var command = observer.CreateCommand(
            "SELECT pid, state, left(regexp_replace(query, '\\s+', ' ', 'g'), 60) FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid");
        command.Parameters.AddWithValue(app);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync())
        {
            lines.Add($"  {reader.GetInt32(0)} {reader.GetValue(1)}: {reader.GetValue(2)}");
        }

        return string.Join('\n', lines);
    }

    /// <summary>
    /// Waits until the number of connections of <paramref name="app"/> meets <paramref name="done"/>; fails after 60 s with
    /// the last count and what the connections ran.
    /// </summary>
    public static async Task EventuallyAsync(NpgsqlDataSource observer, string app, Func<long, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var count = await CountAsync(observer, app);
            if (done(count))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Condition not met within 60s: {what}; it holds {count}:\n{await DescribeAsync(observer, app)}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Samples the number of connections of <paramref name="app"/> until <paramref name="done"/> (called before each sample;
    /// it may act, e.g. collect a gauge) returns true; fails after 60 s with <paramref name="what"/>. Returns the most seen
    /// and what those connections ran at that sample.
    /// </summary>
    public static async Task<(long Most, string AtMost)> MostUntilAsync(NpgsqlDataSource observer, string app, Func<bool> done, string what)
    {
        var most = 0L;
        var atMost = "";
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Condition not met within 60s: {what}");
            var count = await CountAsync(observer, app);
            if (count > most)
            {
                most = count;
                atMost = await DescribeAsync(observer, app);
            }

            await Task.Delay(20);
        }

        return (most, atMost);
    }
}
