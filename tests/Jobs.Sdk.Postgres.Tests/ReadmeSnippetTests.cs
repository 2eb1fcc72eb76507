using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

// The code of README.md's PostgreSQL section, compiled here (and run where it touches the database).
// Each region below is one README snippet, verbatim (ReadmeCodeBlockTests checks README shows exactly this code).

public sealed record SendEmail(string To, string Subject) : IJob<SendEmail>
{
    public static string JobName => "send-email";

    public static void Serialize(Utf8JsonWriter writer, SendEmail job)
    {
        writer.WriteStartObject();
        writer.WriteString("to", job.To);
        writer.WriteString("subject", job.Subject);
        writer.WriteEndObject();
    }

    public static SendEmail Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        string to = "", subject = "";
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                var isTo = reader.ValueTextEquals("to");
                reader.Read();
                if (isTo)
                {
                    to = reader.GetString()!;
                }
                else
                {
                    subject = reader.GetString() ?? "";
                }
            }
        }

        return new SendEmail(to, subject);
    }
}

public sealed class SendEmailHandler : IJobHandler<SendEmail>
{
    public static readonly Recorder<SendEmail> Sent = new();

    public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken)
    {
        Sent.Add(job);
        return Task.CompletedTask;
    }
}

[Collection(PostgresCollection.Name)]
public sealed class ReadmeSnippetTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Setup_push_and_manage_jobs_as_the_readme_shows()
    {
        var connectionString = fixture.ConnectionString;
        var queueName = "readme_" + Guid.NewGuid().ToString("N")[..8];
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();

        #region readme-postgres-setup
        // AOT-friendly data source: the slim builder plus arrays (the driver binds arrays for batches).
        var dataSourceBuilder = new NpgsqlSlimDataSourceBuilder(connectionString);
        dataSourceBuilder.EnableArrays();
        await using var dataSource = dataSourceBuilder.Build();

        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.QueueName = queueName;                    // isolates queues sharing one database
                o.PollInterval = TimeSpan.FromMilliseconds(50);
                o.Schema = "jobs";                          // validated identifier
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.No, FailedJobs = Retain.Yes, CancelledJobs = Retain.No };
            })
            .AddJob<SendEmail, SendEmailHandler>()
            .AddWorkers(o => o.Concurrency = 16));
        #endregion

        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var queue = host.Services.GetRequiredService<JobQueue>();

        #region readme-postgres-push
        // Run as soon as possible, before normal-priority work.
        await queue.PushAsync(new SendEmail("ada@example.com", "Welcome"), new JobOptions { Priority = JobPriority.Highest });

        // Run in an hour (on the database clock), at most 10 attempts.
        var reminder = await queue.PushAsync(new SendEmail("ada@example.com", "Reminder"),
            new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1), MaxAttempts = 10 });

        // Many at once: one statement per 1,000 jobs (250 with concurrency keys), all in one round trip and one transaction.
        await queue.PushManyAsync(Enumerable.Range(0, 1000).Select(i => new SendEmail($"user{i}@example.com", "News")));
        #endregion

        await SendEmailHandler.Sent.WaitForCountAsync(1001, seconds: 60);

        #region readme-postgres-manage
        var paused = await queue.PauseAsync(reminder);      // off the queue; keeps priority and run time
        var resumed = await queue.ResumeAsync(reminder);    // back, as it was
        var info = await queue.GetJobAsync(reminder);       // state, attempts, last error, timestamps
        var counts = await queue.GetCountsAsync();          // per state, over the queues this process knows
        var cancelled = await queue.CancelAsync(reminder);  // waiting: never runs; running: its token is cancelled
        #endregion

        Assert.True(paused && resumed && cancelled);
        Assert.Equal(JobState.Pending, info!.State);
        Assert.Equal(1, counts.Pending);

        #region readme-postgres-transactional
        await using (var connection = await dataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            // ... your own writes on the same connection and transaction ...
            await queue.PushAsync(new SendEmail("bob@example.com", "Order confirmed"), transaction);
            await transaction.CommitAsync(); // the job exists only if this commits
        }
        #endregion

        await SendEmailHandler.Sent.WaitForCountAsync(1002, seconds: 60);

        #region readme-postgres-cleanup
        await queue.CleanupAsync(new CleanupOptions
        {
            FailedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(7)),
            CancelledJobs = CleanupAction.Remove,
            PausedJobs = CleanupAction.Rerun,   // back to pending from attempt 1, priority kept
        });
        #endregion

        await host.StopAsync();
        Assert.Contains(SendEmailHandler.Sent.Items, e => e.Subject == "Order confirmed");
    }

    [Fact]
    public async Task Migration_options_and_the_dba_script_as_the_readme_shows()
    {
        var connectionString = fixture.ConnectionString;
        var services = new ServiceCollection();

        #region readme-postgres-dba
        // The SQL a DBA applies (idempotent; records each migration in jobs.schema_migrations).
        string script = PostgresJobMigrations.GetScript("jobs");

        // Workers then only verify that the schema is up to date, and fail clearly when it is not.
        services.AddJobs(jobs => jobs
            .UsePostgres(connectionString, o =>
            {
                o.Schema = "jobs";
                o.MigrateOnStartup = false;
            })
            .AddJob<SendEmail, SendEmailHandler>()
            .AddWorkers());
        #endregion

        #region readme-postgres-dryrun
        var verifyOnly = new ServiceCollection().AddJobs(jobs => jobs
            .UsePostgres(connectionString, o => o.DryRun = true)); // the hosted migration service only verifies
        #endregion

        #region readme-postgres-pollonly
        var behindPgBouncer = new ServiceCollection().AddJobs(jobs => jobs
            .UsePostgres(connectionString, o =>
            {
                o.UseListenNotify = false;                      // no LISTEN connection, no NOTIFY
                o.PollInterval = TimeSpan.FromMilliseconds(200);
            }));
        #endregion

        Assert.Contains("CREATE TABLE \"jobs\".jobs", script, StringComparison.Ordinal);
        await using (var dba = fixture.CreateDataSource())
        {
            await dba.ExecAsync(script); // what the DBA does
        }

        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<PostgresJobDriver>().WaitUntilReadyAsync(default).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(verifyOnly);
        Assert.NotNull(behindPgBouncer);
    }
}
