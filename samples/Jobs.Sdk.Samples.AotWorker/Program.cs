// A Native AOT job worker: Generic Host, configuration from appsettings.json and environment variables
// (e.g. ConnectionStrings__Jobs, Jobs__Concurrency), PostgreSQL driver with its migrations service, typed jobs with
// generated serializers, a schedule, and graceful shutdown on SIGTERM/SIGINT.
//
//   dotnet run --project samples/Jobs.Sdk.Samples.AotWorker -- --push 100     (JIT)
//   dotnet publish samples/Jobs.Sdk.Samples.AotWorker -c Release -r linux-x64  (native)
//
// --push N pushes N jobs of every kind (with delays and priorities) before working; the worker then runs until stopped.
using System.Globalization;
using Jobs.Sdk;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Samples.AotWorker;
using Jobs.Sdk.Samples.AotWorker.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

// A --push the sample cannot use is a usage error (exit 64, as sysexits' EX_USAGE), said before anything starts.
if (ParsePush(args) is not { } push)
{
    return 64;
}

// Settings next to the binary (not in the working directory), read once: no file watcher to set up at start-up.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
    Configuration = new ConfigurationManager { ["hostBuilder:reloadConfigOnChange"] = "false" },
});
var config = builder.Configuration;
var connectionString = config.GetConnectionString("Jobs")
    ?? throw new InvalidOperationException("Set ConnectionStrings:Jobs in appsettings.json or the ConnectionStrings__Jobs environment variable.");
var queueName = config["Jobs:QueueName"] ?? "aot-worker";
var schema = config["Jobs:Schema"] ?? "jobs";
var concurrency = int.Parse(config["Jobs:Concurrency"] ?? "16", CultureInfo.InvariantCulture);
var pollInterval = TimeSpan.FromMilliseconds(int.Parse(config["Jobs:PollIntervalMs"] ?? "1000", CultureInfo.InvariantCulture));

// The slim builder keeps the native binary small: only the type mappings the driver needs.
// The job tables use built-in types only, so the start-up query of the server's type catalog can be skipped.
var dataSourceBuilder = new NpgsqlSlimDataSourceBuilder(connectionString);
dataSourceBuilder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
dataSourceBuilder.ConnectionStringBuilder.NoResetOnClose = true;
dataSourceBuilder.EnableArrays();
await using var dataSource = dataSourceBuilder.Build();

builder.Services.AddSingleton<WorkerStats>();
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(45));
builder.Services.AddJobs(jobs => jobs
    .UsePostgres(dataSource, o =>
    {
        o.QueueName = queueName;
        o.Schema = schema;
        o.PollInterval = pollInterval;
    })
    .AddGeneratedJobs()   // every [Job] type with its IJobHandler<T> in this assembly
    .AddSchedule(s => s.Add(new NightlyDigest("team"), Schedule.Daily(hour: 3, minute: 0)))
    .AddWorkers(o =>
    {
        o.Concurrency = concurrency;
        o.ShutdownTimeout = TimeSpan.FromSeconds(30);
    }));

using var host = builder.Build();
try
{
    await host.StartAsync();
}
catch (OperationCanceledException) when (host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested)
{
    // SIGTERM/Ctrl+C while start-up still waited for the database (unreachable: log event 2003): the host ends its start
    // by throwing, but for the process this is a stop like any other, not a crash.
    await host.StopAsync();
    return 0;
}

if (push > 0)
{
    var queue = host.Services.GetRequiredService<JobQueue>();
    // A stop (SIGTERM, Ctrl+C) ends the pushing: the host stops its workers only once this code reaches WaitForShutdownAsync.
    var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
    var now = DateTimeOffset.UtcNow;
    var pushed = 0;
    try
    {
        for (; pushed < push; pushed++)
        {
            var i = pushed;
            await queue.PushPingAsync(i, new JobOptions { Priority = i % 10 == 0 ? JobPriority.Highest : JobPriority.Normal }, stopping);
            await queue.PushProcessOrderAsync(Guid.NewGuid(), new Customer($"customer-{i}", $"c{i}@example.com"),
                [new OrderLine("SKU-1", 1 + (i % 3), 9.99m), new OrderLine("SKU-2", 2, 0.5m)],
                new JobOptions { DelayUntil = now.AddMilliseconds(200 + (i % 5) * 100), Priority = JobPriority.Higher }, stopping);
            if (i % 10 == 0)
            {
                await queue.PushDeliverWebhookAsync(new Uri($"https://hooks.example.com/{i}"), "order.created",
                    new JobOptions { Priority = JobPriority.Lower }, stopping);
            }
        }
    }
    catch (OperationCanceledException) when (stopping.IsCancellationRequested)
    {
        // Stopped part-way: what was pushed stays queued for the next start.
    }

    Console.WriteLine(pushed == push
        ? $"pushed {push} ping, {push} process-order and {(push + 9) / 10} deliver-webhook jobs to queue '{queueName}'"
        : $"stopped while pushing: {pushed} of {push} ping jobs (and their process-order and deliver-webhook jobs) pushed to queue '{queueName}'");
}

await host.WaitForShutdownAsync();
return 0;

// The count after --push (0 without one), or null after saying on stderr why it cannot be used.
static int? ParsePush(string[] args)
{
    var i = Array.IndexOf(args, "--push");
    if (i < 0)
    {
        return 0;
    }

    if (i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
    {
        return n;
    }

    var got = i + 1 < args.Length ? $"got '{args[i + 1]}'" : "got nothing after it";
    Console.Error.WriteLine($"error: --push takes the number of jobs to push, a whole number from 0 to 2147483647 (e.g. --push 100); {got}. " +
        "Nothing was pushed and the worker did not start.");
    return null;
}
