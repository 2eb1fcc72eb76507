using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A WinForms/WPF/classic ASP.NET thread (a single-threaded <see cref="SynchronizationContext"/>) blocking on the SDK's async
/// calls against a real PostgreSQL: nothing the SDK or its driver awaits may resume on that context (it would deadlock).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BlockingCallerTests(PostgresFixture fixture)
{
    [Fact]
    public void Queue_admin_transaction_and_worker_calls_blocked_on_from_a_single_threaded_context_never_resume_on_it()
    {
        using var dataSource = fixture.CreateDataSource();
        using var connection = dataSource.OpenConnection();
        using var caller = new BlockingCaller();
        BlockingCallerCalls.QueueAdminAndWorker(caller, jobs => jobs.UsePostgres(dataSource, o =>
        {
            o.Schema = "jobs_test";
            o.QueueName = "syncctx_" + Guid.NewGuid().ToString("N")[..8];
        }), () => connection.BeginTransaction());
    }

    [Fact]
    public void A_host_migrating_a_new_schema_started_checked_stopped_and_disposed_from_a_single_threaded_context_never_resumes_on_it()
    {
        var schema = "syncctx_host_" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using var caller = new BlockingCaller();
            BlockingCallerCalls.HostLifetime(caller, jobs => jobs.UsePostgres(fixture.ConnectionString, o =>
            {
                o.Schema = schema;
                o.QueueName = "syncctx_host";
            }));
        }
        finally
        {
            DropSchema(schema);
        }
    }

    [Fact]
    public void Migrations_blocked_on_from_a_single_threaded_context_never_resume_on_it()
    {
        var schema = "syncctx_migrate_" + Guid.NewGuid().ToString("N")[..8];
        using var dataSource = fixture.CreateDataSource();
        try
        {
            using var caller = new BlockingCaller();
            Assert.NotEmpty(caller.Wait("PostgresJobMigrations.GetPendingAsync", () => PostgresJobMigrations.GetPendingAsync(dataSource, schema)));
            Assert.NotEmpty(caller.Wait("PostgresJobMigrations.ApplyAsync", () => PostgresJobMigrations.ApplyAsync(dataSource, schema)));
            Assert.Empty(caller.Wait("PostgresJobMigrations.GetPendingAsync (migrated)", () => PostgresJobMigrations.GetPendingAsync(dataSource, schema)));
            Assert.Empty(caller.Wait("PostgresJobMigrations.ApplyAsync (nothing to apply)", () => PostgresJobMigrations.ApplyAsync(dataSource, schema)));
            caller.AssertNothingPosted("after the migrations");
        }
        finally
        {
            DropSchema(schema);
        }
    }

    [Fact]
    public Task A_handler_that_installs_its_own_context_does_not_capture_the_worker() => HandlerContextCalls.RunAsync(jobs => jobs.UsePostgres(fixture.ConnectionString, o =>
    {
        o.Schema = "jobs_test";
        o.QueueName = "syncctx_handler_" + Guid.NewGuid().ToString("N")[..8];
    }));

    private void DropSchema(string schema)
    {
        using var dataSource = fixture.CreateDataSource();
        using var command = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        command.ExecuteNonQuery();
    }
}
