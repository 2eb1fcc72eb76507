using System.Collections.Concurrent;
using System.Diagnostics;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// The live hub's poll is the app's own background work, shared by every browser: with ASP.NET Core's and Npgsql's tracing
/// on (OpenTelemetry's <c>AddAspNetCoreInstrumentation</c> and <c>AddNpgsql</c>), its statements must not land in the trace
/// of whichever dashboard request happened to start it.
/// </summary>
public sealed class LivePollTraceTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    /// <summary>
    /// Browser A opens the live stream (its request starts the poll), browser B joins, A leaves, and the poll goes on for B:
    /// none of the poll's statements belongs to a request's trace. They all did, in A's: the poll loop was started inside A's
    /// request and kept its activity as the parent of every statement for as long as anyone watched.
    /// </summary>
    [Fact]
    public async Task The_live_poll_runs_outside_the_trace_of_the_request_that_started_it()
    {
        // The listener hears the whole test process, where other test classes run in parallel: a statement of another
        // test's request would count. Only this test's statements (its schema in the text) are judged.
        var schema = "livetrace_" + Guid.NewGuid().ToString("N")[..8];
        var started = new ConcurrentQueue<(string Source, ActivityTraceId TraceId)>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "Microsoft.AspNetCore" or "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = a =>
            {
                if (a.Source.Name == "Microsoft.AspNetCore")
                {
                    started.Enqueue((a.Source.Name, a.TraceId));
                }
            },
            ActivityStopped = a =>
            {
                var text = a.GetTagItem("db.query.text") as string ?? a.GetTagItem("db.statement") as string;
                if (a.Source.Name == "Npgsql" && text is not null && text.Contains(schema, StringComparison.Ordinal))
                {
                    started.Enqueue((a.Source.Name, a.TraceId));
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await using var dataSource = PostgresJobsBuilderExtensions.CreateDataSource(postgres.ConnectionString);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using (var app = await DashboardTestApp.StartAsync(protect: false, time: time, jobs: (
            j => j.UsePostgres(postgres.ConnectionString, o => { o.Schema = schema; o.QueueName = "emails"; }).AddJob<TestEmail, TestEmailHandler>(),
            _ => new PostgresJobAdminStore(dataSource, schema))))
        {
            await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"));
            var a = await LiveEventStream.OpenAsync(app, Caller.LocalAnonymous);
            Assert.Equal(1, (await a.NextAsync("snapshot")).GetProperty("seq").GetInt64());
            await using var b = await LiveEventStream.OpenAsync(app, Caller.LocalAnonymous);
            await b.NextAsync("snapshot");
            await a.DisposeAsync();
            await LiveEventStream.WaitUntilAsync(() => app.Hub.SubscriberCount == 1);
            for (var seq = 2; seq <= 3; seq++)
            {
                time.Advance(TimeSpan.FromSeconds(2));
                Assert.Equal(seq, (await b.NextAsync("snapshot")).GetProperty("seq").GetInt64());
            }
        }

        await using (var drop = dataSource.CreateCommand($"DROP SCHEMA \"{schema}\" CASCADE"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        var requests = started.Where(s => s.Source == "Microsoft.AspNetCore").Select(s => s.TraceId).ToHashSet();
        var statements = started.Where(s => s.Source == "Npgsql").ToArray();
        Assert.True(requests.Count >= 2, $"both browsers' requests are traced ({requests.Count})");
        Assert.NotEmpty(statements);
        var inRequests = statements.Count(s => requests.Contains(s.TraceId));
        Assert.True(inRequests == 0, $"{inRequests} of {statements.Length} statements ran in a dashboard request's trace");
    }
}
