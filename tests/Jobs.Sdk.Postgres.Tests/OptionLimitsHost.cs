using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A Generic Host (<c>Host.CreateApplicationBuilder</c>) serving a queue of its own in <c>jobs_test</c> with a
/// <see cref="ValueJob"/> handler that completes <see cref="Ran"/>, configured as an app configures it (the driver's, the
/// queues' and the workers' options).
/// </summary>
internal sealed class OptionLimitsHost(IHost host, TaskCompletionSource ran) : IDisposable
{
    public IHost Host { get; } = host;

    /// <summary>Completes when the handler ran.</summary>
    public Task Ran => ran.Task;

    /// <summary>Builds the host; throws what <c>AddJobs</c> throws (the options it checks at registration).</summary>
    public static OptionLimitsHost Build(PostgresFixture fixture, Action<PostgresJobDriverOptions>? driver = null,
        Action<JobsBuilder>? queues = null, Action<JobWorkerOptions>? worker = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        builder.Services.AddJobs(jobs =>
        {
            jobs.UsePostgres(fixture.ConnectionString, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "limits_" + Guid.NewGuid().ToString("N")[..8];
                driver?.Invoke(o);
            });
            queues?.Invoke(jobs);
            jobs.AddJob<ValueJob>((_, _, _) =>
            {
                ran.TrySetResult();
                return Task.CompletedTask;
            });
            jobs.AddWorkers(o => worker?.Invoke(o));
        });
        return new OptionLimitsHost(builder.Build(), ran);
    }

    public void Dispose() => Host.Dispose();
}
