using System.Globalization;
using System.Net;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Samples.Dashboard.Jobs;

namespace Jobs.Sdk.Samples.Dashboard;

/// <summary>
/// The sample's composition: jobs on PostgreSQL, a worker, a schedule, demo jobs, and the dashboard at <c>/jobs</c>.
/// Configuration: <c>JOBS_CONNECTION</c> (or <c>ConnectionStrings:Jobs</c>), <c>Jobs:Schema</c>, <c>Jobs:QueueName</c>,
/// <c>Sample:Seed</c> (push demo jobs at start, default true), <c>Sample:PushEverySeconds</c> (a steady trickle, default off).
/// </summary>
public static class DashboardSampleApp
{
    /// <summary>Builds the app; <paramref name="configure"/> can adjust the builder (tests set the connection and the URL).</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.AddFilter("Npgsql", LogLevel.Warning); // Npgsql logs every command at Information
        configure?.Invoke(builder);
        var config = builder.Configuration;
        var connectionString = config["JOBS_CONNECTION"] ?? config.GetConnectionString("Jobs")
            ?? throw new InvalidOperationException(
                "Set the JOBS_CONNECTION environment variable (or ConnectionStrings:Jobs) to a PostgreSQL connection string, " +
                "e.g. JOBS_CONNECTION=\"Host=localhost;Username=postgres;Password=postgres\".");
        var schema = config["Jobs:Schema"] ?? "jobs";
        var queueName = config["Jobs:QueueName"] ?? "sample";

        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(connectionString, o =>
            {
                o.Schema = schema;
                o.QueueName = queueName;
                o.PollInterval = TimeSpan.FromMilliseconds(500);
                // Keep completed jobs so the throughput chart and the jobs list show them (clean up with a schedule in production).
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, CancelledJobs = Retain.Yes };
            })
            .AddGeneratedJobs()
            .AddSchedule(s => s.Add(new NightlyReport("operations"), Schedule.Daily(hour: 2, minute: 30)))
            .AddWorkers(o => o.Concurrency = 4));

        // Who may act. This sample has no sign-in, so "operator" means "on this machine"; in a real app use roles or claims,
        // e.g. p.RequireRole("jobs-operator"), and protect the whole dashboard with .RequireAuthorization("jobs-viewer").
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy("jobs-operator", p => p.RequireAssertion(c =>
                c.Resource is HttpContext http && http.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip)));
        builder.Services.AddJobsDashboard(o =>
        {
            o.OperatorPolicy = "jobs-operator";
            o.Title = "Jobs · dashboard sample";
        });
        builder.Services.AddHostedService(sp => new SampleJobsSeeder(
            sp.GetRequiredService<JobQueue>(),
            bool.Parse(config["Sample:Seed"] ?? "true"),
            TimeSpan.FromSeconds(double.Parse(config["Sample:PushEverySeconds"] ?? "0", CultureInfo.InvariantCulture))));

        var app = builder.Build();
        // No RequireAuthorization here: the dashboard keeps its safe default and answers local requests only.
        app.MapJobsDashboard("/jobs");
        app.MapGet("/", () => Results.Redirect("/jobs/"));
        return app;
    }
}
