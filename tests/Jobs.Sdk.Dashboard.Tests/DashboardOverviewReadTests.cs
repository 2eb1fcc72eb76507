using System.Text.Json;
using Jobs.Sdk.Dashboard.Live;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;
using Jobs.Sdk.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// The overview's live refresh reads a summary of the queues from PostgreSQL, not every queue with its details: with 3,000
/// queues one refresh read every queue's counts, oldest waiting job, pause and workers (hundreds of kilobytes, every
/// <see cref="JobsDashboardOptions.LiveInterval"/>) to send totals, counts and the 50 busiest. Judged by the bytes PostgreSQL
/// sent the dashboard's data source (Npgsql's metrics), and by the figures, which must be those the whole list gives.
/// </summary>
public sealed class DashboardOverviewReadTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const int Queues = 3_000;

    /// <summary>What one refresh may read: the totals, two counts, the oldest age, 50 queues' details, workers, throughput, a connection's start-up.</summary>
    private const long MaxRefreshBytes = 40 * 1024;

    [Fact]
    public async Task One_overview_refresh_with_3000_queues_reads_a_summary_and_shows_the_figures_of_every_queue()
    {
        await using var dashboard = await KestrelDashboard.StartAsync(postgres, "dovw_", "q-own");
        var s = "\"" + dashboard.Schema + "\"";
        // 3,000 queues with a due job and a completed one; every 37th has retrying jobs (not due), every 53rd failed ones, so
        // that the busiest 50 are chosen among ties by name; q-2345's oldest job has waited two days; every 7th queue is
        // paused, and z-idle, paused, has no job.
        await using (var seed = dashboard.App.Services.GetRequiredService<PostgresJobDriver>().DataSource.CreateCommand($"""
            INSERT INTO {s}.jobs (id, queue_name, name, payload, state, run_at)
            SELECT gen_random_uuid(), 'q-' || lpad(g::text, 4, '0'), 'overview', '{"{}"}', v.s, now() - interval '1 minute'
            FROM generate_series(1, {Queues}) g, (VALUES (0::smallint), (3::smallint)) AS v(s);
            INSERT INTO {s}.jobs (id, queue_name, name, payload, state, run_at)
            SELECT gen_random_uuid(), 'q-' || lpad(g::text, 4, '0'), 'overview', '{"{}"}', 2, now() + interval '1 hour'
            FROM generate_series(37, {Queues}, 37) g, generate_series(1, 5) k WHERE k <= g % 5 + 1;
            INSERT INTO {s}.jobs (id, queue_name, name, payload, state, run_at)
            SELECT gen_random_uuid(), 'q-' || lpad(g::text, 4, '0'), 'overview', '{"{}"}', 4, now() - interval '1 hour'
            FROM generate_series(53, {Queues}, 53) g, generate_series(1, 3) k WHERE k <= g % 3 + 1;
            INSERT INTO {s}.jobs (id, queue_name, name, payload, state, run_at)
            VALUES (gen_random_uuid(), 'q-2345', 'overview', '{"{}"}', 0, now() - interval '2 days');
            INSERT INTO {s}.queues (name, paused, reason, paused_at, updated_at)
            SELECT 'q-' || lpad(g::text, 4, '0'), true, 'seventh', now(), now() FROM generate_series(7, {Queues}, 7) g
            UNION ALL SELECT 'z-idle', true, 'idle', now(), now();
            ANALYZE {s}.job_state_counts;
            """))
        {
            await seed.ExecuteNonQueryAsync();
        }

        // The dashboard under test reads through its own data source, named so that its bytes can be told apart.
        var pool = "dovw-" + Guid.NewGuid().ToString("N")[..10];
        await using var dataSource = postgres.CreateDataSource(b => b.ApplicationName = pool);
        await using (var warm = dataSource.CreateCommand("SELECT 1"))
        {
            await warm.ExecuteScalarAsync(); // the data source's first connection loads its types: not the refresh's cost
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(new JobAdmin(new PostgresJobAdminStore(dataSource, dashboard.Schema)));
        builder.Services.AddJobsDashboard(o => o.LiveInterval = TimeSpan.FromHours(1)); // one refresh while the test reads
        await using var app = builder.Build();
        app.MapJobsDashboard("/jobs");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/jobs/") };

        // What the whole list gives, read before and after the refresh (on the other app's data source).
        var admin = dashboard.App.Services.GetRequiredService<JobAdmin>();
        var before = (await admin.GetQueuesAsync()).Select(DashboardMapping.ToDto).ToArray();
        using var bytes = new NpgsqlBytesRead(pool);
        var snapshot = await FirstSnapshotAsync(http);
        var read = bytes.Take();
        var after = (await admin.GetQueuesAsync()).Select(DashboardMapping.ToDto).ToArray();

        Assert.Equal(Queues + 1, before.Count(q => q.Name != "q-own")); // and z-idle (q-own, the app's own queue, may be listed)
        Assert.Equal(JsonSerializer.Serialize(CountsDto.Sum(before.Select(q => q.Counts)), DashboardJsonContext.Default.CountsDto),
            snapshot.GetProperty("totals").GetRawText());
        Assert.Equal(before.Length, snapshot.GetProperty("queueCount").GetInt32());
        Assert.Equal(before.Count(q => q.IsPaused), snapshot.GetProperty("pausedQueues").GetInt32());
        var oldest = snapshot.GetProperty("oldestWaitingSeconds").GetDouble();
        Assert.InRange(oldest, before.Max(q => q.OldestWaitingSeconds)!.Value, after.Max(q => q.OldestWaitingSeconds)!.Value);

        // The busiest 50, listed by name, each as the whole list gives it (its oldest waiting age taken later or earlier).
        var expected = OverviewQueues.Busiest(before, 50);
        var shown = snapshot.GetProperty("queues").EnumerateArray().ToArray();
        Assert.Equal(expected.Select(q => q.Name), shown.Select(q => q.GetProperty("name").GetString()));
        foreach (var (queue, json) in expected.Zip(shown))
        {
            Assert.Equal(JsonSerializer.Serialize(queue with { OldestWaitingSeconds = null }, DashboardJsonContext.Default.QueueDto),
                JsonSerializer.Serialize(JsonSerializer.Deserialize(json.GetRawText(), DashboardJsonContext.Default.QueueDto)! with { OldestWaitingSeconds = null },
                    DashboardJsonContext.Default.QueueDto));
            Assert.Equal(queue.OldestWaitingSeconds is null, json.GetProperty("oldestWaitingSeconds").ValueKind == JsonValueKind.Null);
        }

        Assert.True(read <= MaxRefreshBytes,
            $"one overview refresh with {Queues:N0} queues read {read:N0} bytes from PostgreSQL (at most {MaxRefreshBytes:N0}), every LiveInterval");
    }

    /// <summary>The first snapshot event of <c>api/events</c>, as a browser's EventSource reads it.</summary>
    private static async Task<JsonElement> FirstSnapshotAsync(HttpClient http)
    {
        using var events = await http.GetAsync("api/events", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());
        using var hang = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        for (string? name = null; ;)
        {
            var line = await reader.ReadLineAsync(hang.Token) ?? throw new InvalidOperationException("The event stream ended.");
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                Assert.True(name == "snapshot", $"the first live event is a {name}: {line}");
                return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            }
        }
    }
}
