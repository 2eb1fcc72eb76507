using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A host whose role may not apply a pending migration (the DBA installed the schema as another role, which owns its
/// tables; the application's role has USAGE and CREATE on the schema and DML rights): its start fails, and the error must
/// say which migration, which role owns the tables, and the ways on, not only "must be owner of table jobs".
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MigrationPrivilegeTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_host_whose_role_may_not_alter_the_tables_says_which_role_must_apply_the_migration()
    {
        var schema = "prv_" + Guid.NewGuid().ToString("N")[..10];
        var role = "app_" + Guid.NewGuid().ToString("N")[..8];
        await using var admin = fixture.CreateDataSource();
        var all = PostgresJobMigrations.GetMigrations(schema);
        await PostgresJobMigrations.ApplyAsync(admin, schema, all.Take(all.Count - 1).ToArray(), PostgresJobMigrations.DefaultLockTimeout, default);
        await admin.ExecAsync($"""
            CREATE ROLE {role} LOGIN PASSWORD 'app-pass';
            GRANT USAGE, CREATE ON SCHEMA "{schema}" TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {role};
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role};
            """);
        await using var app = fixture.CreateDataSource(b => { b.Username = role; b.Password = "app-pass"; });

        using var log = new LevelLog();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(log);
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(app, o => o.Schema = schema)
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers());
        using var host = builder.Build();
        var ex = await Assert.ThrowsAsync<JobQueueUnavailableException>(() => host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60)));

        var owner = new NpgsqlConnectionStringBuilder(fixture.ConnectionString).Username;
        Assert.True(ex.Message.Contains($"Role '{role}' may not apply job queue migration 0018_operator_cancels", StringComparison.Ordinal)
            && ex.Message.Contains($"role '{owner}'", StringComparison.Ordinal)
            && ex.Message.Contains("jobs migrate", StringComparison.Ordinal)
            && ex.Message.Contains("MigrateOnStartup = false", StringComparison.Ordinal),
            $"A host of role '{role}' on a schema whose tables '{owner}' owns, one migration behind, failed to start with: {ex.Message}");
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, Assert.IsType<PostgresException>(Assert.IsType<PostgresMigrationException>(ex.InnerException).InnerException).SqlState);
        Assert.Equal(["0018_operator_cancels"], await PostgresJobMigrations.GetPendingAsync(admin, schema));
        Assert.Contains(log.Errors, e => e.Contains("[2002]", StringComparison.Ordinal) && e.Contains("may not apply", StringComparison.Ordinal));
        await admin.ExecAsync($"DROP SCHEMA \"{schema}\" CASCADE");
    }
}
