using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Jobs.Sdk.Postgres;
using Npgsql;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// A bulk action from the dashboard that JobAdmin ends part-way, on real PostgreSQL under a role's 500 ms
/// <c>statement_timeout</c>: over jobs another session's open transaction holds locked (<see cref="JobsLockedException"/>:
/// the others changed), and over a job whose change runs past the timeout (<see cref="JobBatchTimeoutException"/>). The
/// operator's browser got a bare 500; the API answers 409 with what changed, what was left, who held it and the message
/// (which the page's toast shows, as it shows any error body's), and the audit log has JobAdmin's entry.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardBulkConflictTests(BrowserFixture fixture)
{
    private const string QueueName = "conflict";

    [Fact]
    public async Task A_bulk_cancel_over_a_job_another_transaction_holds_answers_409_naming_the_changed_the_locked_and_the_holder()
    {
        await using var rig = await ConflictRig.StartAsync(fixture);
        var app = rig.App;
        var ids = await app.Queue.PushManyAsync(Enumerable.Range(0, 10).Select(i => new TestEmail($"l{i}@example.com", "locked")));
        await using var holder = await rig.HoldAsync("report-export", $"SELECT 1 FROM \"{rig.Schema}\".jobs WHERE id = '{ids[3]}' FOR UPDATE");
        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);

        var (status, body) = await PostAsync(app, "api/jobs/cancel", new { ids = ids.Select(i => i.ToString()), reason = "bad batch" }, token);

        Assert.True(status == HttpStatusCode.Conflict && body is { } b
            && b.GetProperty("changed").GetInt32() == 9
            && b.GetProperty("locked").EnumerateArray().Select(e => e.GetString()).SequenceEqual([ids[3].ToString()])
            && b.GetProperty("holders").EnumerateArray().Any(h => h.GetString()!.Contains($"pid {holder.Pid}", StringComparison.Ordinal))
            && b.GetProperty("error").GetString()!.Contains("'report-export'", StringComparison.Ordinal)
            && b.GetProperty("error").GetString()!.Contains("pg_terminate_backend", StringComparison.Ordinal),
            $"A bulk cancel of 10 jobs from the dashboard, one of whose rows an open transaction (pid {holder.Pid}, 'report-export') held, " +
            $"answered {(int)status} {status}: {body?.ToString() ?? "(no JSON body)"}; expected 409 with changed 9, locked [{ids[3]}], the holder and the message");
        var counts = await app.Queue.GetCountsAsync();
        Assert.Equal((9L, 1L), (counts.Cancelled, counts.Pending));
        var entry = (await app.Admin.GetAuditLogAsync(1)).Single();
        Assert.Equal(("cancel (1 locked job(s) left)", 9, "olga", "bad batch"), (entry.Action, entry.RowsChanged, entry.Actor, entry.Reason));
    }

    [Fact]
    public async Task A_bulk_cancel_whose_one_job_runs_past_statement_timeout_answers_409_naming_the_changed_and_the_timeout()
    {
        await using var rig = await ConflictRig.StartAsync(fixture);
        var app = rig.App;
        var ids = await app.Queue.PushManyAsync(Enumerable.Range(0, 8).Select(i => new TestEmail($"t{i}@example.com", "slow")));
        // A slow trigger on one job's row: every statement that changes it runs past the 500 ms timeout, even alone.
        await rig.ExecAsync($$"""
            CREATE FUNCTION "{{rig.Schema}}".slow_job() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_sleep(2); RETURN NEW; END $$;
            CREATE TRIGGER slow_job BEFORE UPDATE ON "{{rig.Schema}}".jobs
              FOR EACH ROW WHEN (OLD.id = '{{ids[5]}}') EXECUTE FUNCTION "{{rig.Schema}}".slow_job();
            """);
        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);

        var (status, body) = await PostAsync(app, "api/jobs/cancel", new { ids = ids.Select(i => i.ToString()), reason = "slow" }, token);

        Assert.True(status == HttpStatusCode.Conflict && body is { } b
            && b.GetProperty("changed").GetInt32() == 5
            && b.GetProperty("locked").GetArrayLength() == 0
            && b.GetProperty("error").GetString()!.Contains("statement_timeout", StringComparison.Ordinal)
            && b.GetProperty("error").GetString()!.Contains(ids[5].ToString(), StringComparison.Ordinal),
            $"A bulk cancel of 8 jobs from the dashboard, one of whose changes runs past the 500 ms statement_timeout, " +
            $"answered {(int)status} {status}: {body?.ToString() ?? "(no JSON body)"}; expected 409 with changed 5 (the jobs before it; the action stops there) and the message naming the timeout and the job");
        var counts = await app.Queue.GetCountsAsync();
        Assert.Equal((5L, 3L), (counts.Cancelled, counts.Pending));
        var entry = (await app.Admin.GetAuditLogAsync(1)).Single();
        Assert.Equal(("cancel (failed part-way)", 5, "olga", "slow"), (entry.Action, entry.RowsChanged, entry.Actor, entry.Reason));
    }

    /// <summary>The answer's status and JSON body; an exception the endpoint let through (the browser's bare 500) as a 500.</summary>
    private static async Task<(HttpStatusCode Status, JsonElement? Body)> PostAsync(DashboardTestApp app, string path, object body, Antiforgery token)
    {
        try
        {
            using var response = await app.PostAsync(path, Caller.RemoteOperator, body, token);
            var json = response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true
                ? await response.Content.ReadFromJsonAsync<JsonElement>()
                : (JsonElement?)null;
            return (response.StatusCode, json);
        }
        catch (Exception ex) when (ex is JobsException)
        {
            // The test server hands the client the exception the endpoint did not handle; a real server answers a bare 500.
            return (HttpStatusCode.InternalServerError, JsonSerializer.SerializeToElement(new { unhandled = $"{ex.GetType().Name}: {ex.Message}" }));
        }
    }

    /// <summary>The dashboard app on a PostgreSQL schema of its own; its admin store's sessions have a 500 ms statement_timeout.</summary>
    private sealed record ConflictRig(DashboardTestApp App, NpgsqlDataSource Untimed, NpgsqlDataSource Timed, string Schema) : IAsyncDisposable
    {
        public static async Task<ConflictRig> StartAsync(BrowserFixture fixture)
        {
            var schema = "conflict_" + Guid.NewGuid().ToString("N")[..8];
            var untimed = PostgresJobsBuilderExtensions.CreateDataSource(fixture.PostgresConnectionString);
            var timed = PostgresJobsBuilderExtensions.CreateDataSource(
                new NpgsqlConnectionStringBuilder(fixture.PostgresConnectionString) { Options = "-c statement_timeout=500ms" }.ConnectionString);
            var app = await DashboardTestApp.StartAsync(protect: true, jobs: (
                j => j.UsePostgres(fixture.PostgresConnectionString, o => { o.Schema = schema; o.QueueName = QueueName; }).AddJob<TestEmail, TestEmailHandler>(),
                _ => new PostgresJobAdminStore(timed, schema)));
            return new ConflictRig(app, untimed, timed, schema);
        }

        public async Task ExecAsync(string sql)
        {
            await using var command = Untimed.CreateCommand(sql);
            await command.ExecuteNonQueryAsync();
        }

        /// <summary>A session named <paramref name="application"/> that ran <paramref name="sql"/> in a transaction it keeps open.</summary>
        public async Task<Holder> HoldAsync(string application, string sql)
        {
            var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Untimed.ConnectionString) { ApplicationName = application, Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using (var command = new NpgsqlCommand(sql, connection, transaction))
            {
                await command.ExecuteNonQueryAsync();
            }

            return new Holder(connection, transaction, connection.ProcessID);
        }

        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            await ExecAsync($"DROP SCHEMA \"{Schema}\" CASCADE");
            await Timed.DisposeAsync();
            await Untimed.DisposeAsync();
        }
    }

    /// <summary>An open transaction holding row locks; disposing rolls it back and closes its session.</summary>
    private sealed record Holder(NpgsqlConnection Connection, NpgsqlTransaction Transaction, int Pid) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Transaction.DisposeAsync();
            await Connection.DisposeAsync();
        }
    }
}
