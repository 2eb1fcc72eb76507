using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A fresh job schema for one test of the jobs tool: a data source on the test server, the tool run against the schema,
/// a driver of one of its queues; disposing it drops the schema.
/// </summary>
internal sealed class CliSchema(PostgresFixture fixture) : IAsyncDisposable
{
    /// <summary>The schema's name (created by the test: migrations or <c>jobs migrate</c>).</summary>
    public string Name { get; } = "cli_" + Guid.NewGuid().ToString("N")[..10];

    public NpgsqlDataSource DataSource { get; } = PostgresJobsBuilderExtensions.CreateDataSource(fixture.ConnectionString);

    /// <summary>
    /// Runs <c>jobs {command} --schema {schema} {rest}</c> (options before arguments, as users type them);
    /// <paramref name="words"/> is how many words name the command (<c>queue pause</c>: 2).
    /// </summary>
    public async Task<JobsTool.Result> RunAsync(int words, string[] args)
    {
        using var running = Start(words, args);
        return await running.ExitAsync();
    }

    /// <summary><see cref="RunAsync"/> started, not awaited: the test acts while the tool runs.</summary>
    public JobsTool.Running Start(int words, string[] args)
        => JobsTool.Start(fixture.ConnectionString, [.. args[..words], "--schema", Name, .. args[words..]]);

    /// <summary>Creates the schema (the package's migrations) and returns a <see cref="JobAdmin"/> of it.</summary>
    public async Task<JobAdmin> MigrateAsync()
    {
        await PostgresJobMigrations.ApplyAsync(DataSource, Name);
        return PostgresJobAdmin.Create(DataSource, new PostgresJobDriverOptions { Schema = Name });
    }

    /// <summary>Creates the schema and stores <paramref name="count"/> failed <c>send-email</c> jobs of queue <c>emails</c>, finished 9 days ago.</summary>
    public async Task MigrateWithFailedEmailsAsync(int count = 3)
    {
        await MigrateAsync();
        await ExecuteAsync($"""
            INSERT INTO "{Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at)
            SELECT gen_random_uuid(), 'emails', 'send-email', jsonb_build_object(), 4, 1, now() - interval '9 days' FROM generate_series(1, {count})
            """);
    }

    /// <summary>A driver of <paramref name="queue"/> in the schema (polling only).</summary>
    public PostgresJobDriver Driver(string queue) => new(DataSource, new PostgresJobDriverOptions { Schema = Name, QueueName = queue, UseListenNotify = false });

    /// <summary>Runs <paramref name="sql"/> (set-up rows, a state to reach) on the test server.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The integer (a count) <paramref name="sql"/> answers.</summary>
    public async Task<long> ScalarAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await using (var drop = DataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{Name}\" CASCADE"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        await DataSource.DisposeAsync();
    }
}
