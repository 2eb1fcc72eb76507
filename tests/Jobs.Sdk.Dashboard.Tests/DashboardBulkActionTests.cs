using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Jobs.Sdk.Postgres;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// "Select every job matching these filters", then act, on real PostgreSQL while jobs keep arriving: the action changes the
/// jobs that matched when the operator asked, not every job pushed while its batches run (which, on a busy queue, never ends).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardBulkActionTests(BrowserFixture fixture)
{
    private const string QueueName = "bulk";

    [Fact]
    public async Task A_bulk_cancel_by_filter_leaves_the_jobs_that_arrive_while_it_runs()
    {
        await using var rig = await BulkRig.StartAsync(fixture);
        var app = rig.App;

        // More than one batch (JobAdmin.BatchSize) waits when the operator acts.
        var before = await app.Queue.PushManyAsync(Enumerable.Range(0, 1500).Select(i => new TestEmail($"a{i}@example.com", "old")));
        var arrived = new List<JobId>();
        app.Store.AfterFindBatch = async batch =>
        {
            // While the action runs, producers push more jobs of the same queue (more than a batch each time).
            if (batch <= 2)
            {
                arrived.AddRange(await app.Queue.PushManyAsync(Enumerable.Range(0, 1200).Select(i => new TestEmail($"n{i}@example.com", "new"))));
            }
        };
        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);

        using var response = await app.PostAsync("api/jobs/cancel", Caller.RemoteOperator,
            new { filter = new { queue = QueueName, state = "pending" }, reason = "bad batch" }, token);
        app.Store.AfterFindBatch = null;

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var changed = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("changed").GetInt32();
        var counts = await app.Queue.GetCountsAsync();
        Assert.True(changed == 1500 && counts.Cancelled == 1500 && counts.Pending == arrived.Count,
            $"The operator cancelled the 1,500 pending jobs listed; the action reported {changed} changed, and the queue has " +
            $"{counts.Cancelled} cancelled and {counts.Pending} pending of the {arrived.Count} pushed while it ran");
        Assert.All(before.Take(3), id => Assert.Equal(JobState.Cancelled, app.Admin.GetJobAsync(id).Result!.State));
        Assert.All(arrived.TakeLast(3), id => Assert.Equal(JobState.Pending, app.Admin.GetJobAsync(id).Result!.State));

        // The audit entry names the filter, and the bound that kept the later jobs out.
        var entry = (await app.Admin.GetAuditLogAsync(1)).Single();
        Assert.Equal(("cancel", 1500, "olga", "bad batch"), (entry.Action, entry.RowsChanged, entry.Actor, entry.Reason));
        Assert.Contains("queue=" + QueueName, entry.Target, StringComparison.Ordinal);
        Assert.Contains("queued<", entry.Target, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bulk_delete_of_failed_jobs_keeps_a_job_retried_after_it_was_found()
    {
        // "Delete every failed job" while another operator retries one of them: the retried job is pending (or running)
        // by the time the delete reaches it, and no longer matches what this operator asked to delete.
        await using var rig = await BulkRig.StartAsync(fixture);
        var (app, dataSource, schema) = (rig.App, rig.DataSource, rig.Schema);
        var ids = await app.Queue.PushManyAsync(Enumerable.Range(0, 3).Select(i => new TestEmail($"f{i}@example.com", "old")));
        await using (var fail = dataSource.CreateCommand($"UPDATE \"{schema}\".jobs SET state = 4, attempts = 4, finished_at = now() WHERE id = ANY($1)"))
        {
            fail.Parameters.Add(new Npgsql.NpgsqlParameter { Value = ids.Select(i => i.Value).ToArray() });
            await fail.ExecuteNonQueryAsync();
        }

        app.Store.AfterFindBatch = async _ => await app.Admin.RetryAsync(JobSelection.Ids(ids[0]));
        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);

        using var response = await app.PostAsync("api/jobs/delete", Caller.RemoteOperator, new { filter = new { queue = QueueName, state = "failed" } }, token);
        app.Store.AfterFindBatch = null;

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var changed = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("changed").GetInt32();
        var retried = await app.Admin.GetJobAsync(ids[0]);
        Assert.True(changed == 2 && retried?.State == JobState.Pending,
            $"The delete of failed jobs reported {changed} deleted; the job retried in between is {(retried is null ? "deleted" : retried.State.ToString())}.");
    }

    [Fact]
    public async Task A_bulk_cancel_by_filter_on_a_dashboard_host_whose_clock_is_behind_the_database_reaches_the_jobs_listed()
    {
        // The bound "queued before the operator asked" is read on the database's clock, on which queued times are written:
        // a dashboard host 10 minutes behind must not leave out the jobs of the last 10 minutes.
        await using var rig = await BulkRig.StartAsync(fixture, new SkewedTime(TimeSpan.FromMinutes(-10)));
        var app = rig.App;
        await app.Queue.PushManyAsync(Enumerable.Range(0, 5).Select(i => new TestEmail($"s{i}@example.com", "old")));
        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);

        using var response = await app.PostAsync("api/jobs/cancel", Caller.RemoteOperator,
            new { filter = new { queue = QueueName, state = "pending" } }, token);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var changed = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("changed").GetInt32();
        var counts = await app.Queue.GetCountsAsync();
        Assert.True(changed == 5 && counts.Cancelled == 5,
            $"The operator cancelled the 5 pending jobs listed from a host whose clock is 10 min behind the database's; the action reported {changed} changed and the queue has {counts.Cancelled} cancelled, {counts.Pending} pending");
    }

    private sealed class SkewedTime(TimeSpan skew) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + skew;
    }

    /// <summary>The dashboard app on a PostgreSQL schema of its own (queue <see cref="QueueName"/>), dropped at the end.</summary>
    private sealed record BulkRig(DashboardTestApp App, Npgsql.NpgsqlDataSource DataSource, string Schema) : IAsyncDisposable
    {
        public static async Task<BulkRig> StartAsync(BrowserFixture fixture, TimeProvider? time = null)
        {
            var schema = "bulk_" + Guid.NewGuid().ToString("N")[..8];
            var dataSource = PostgresJobsBuilderExtensions.CreateDataSource(fixture.PostgresConnectionString);
            var app = await DashboardTestApp.StartAsync(protect: true, time: time, jobs: (
                j => j.UsePostgres(fixture.PostgresConnectionString, o => { o.Schema = schema; o.QueueName = QueueName; }).AddJob<TestEmail, TestEmailHandler>(),
                _ => new PostgresJobAdminStore(dataSource, schema)));
            return new BulkRig(app, dataSource, schema);
        }

        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            await using (var drop = DataSource.CreateCommand($"DROP SCHEMA \"{Schema}\" CASCADE"))
            {
                await drop.ExecuteNonQueryAsync();
            }

            await DataSource.DisposeAsync();
        }
    }
}
