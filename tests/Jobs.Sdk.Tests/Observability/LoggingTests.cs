using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Tests.Observability;

[Collection(ObservabilityCollection.Name)]
public sealed class LoggingTests
{
    [Fact]
    public async Task Worker_logs_have_event_ids_and_carry_the_job_id_and_name()
    {
        var queueName = Obs.NewQueueName("logs");
        var sink = new CapturingLoggerProvider();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await ObsHost.Create(queueName, j => j
            .AddJob<ObsJob>((job, ctx, ct) =>
            {
                ctx.Logger.LogInformation("handler running attempt {Attempt}", ctx.Attempt);
                if (ctx.Attempt < 2)
                {
                    throw new InvalidOperationException("boom");
                }

                done.TrySetResult();
                return Task.CompletedTask;
            }, o => o.RetryStrategy = Obs.FastRetry)
            .AddWorkers(),
            services: s => s.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(sink))).StartAsync();

        var id = await host.Queue.PushAsync(new ObsJob(1));
        await done.Task.WaitAsync(Obs.Timeout);
        await host.Worker.StopAsync(CancellationToken.None).WaitAsync(Obs.Timeout);
        var entries = sink.Entries.ToArray();

        // The handler's logger and the worker's retry log run inside a scope with the job id and name.
        var handlerLogs = entries.Where(e => e.Message.StartsWith("handler running", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, handlerLogs.Length);
        Assert.All(handlerLogs, e =>
        {
            Assert.Equal(id, e.Scope["JobId"]);
            Assert.Equal("obs.job", e.Scope["JobName"]);
        });

        var retrying = Assert.Single(entries, e => e.EventId.Id == 1101);
        Assert.Equal(LogLevel.Warning, retrying.Level);
        Assert.Equal(id, retrying.Scope["JobId"]);
        Assert.Equal("obs.job", retrying.Scope["JobName"]);
        Assert.Equal(id, retrying.State["JobId"]);

        // Logs written outside the handler's scope still carry the job as structured values.
        var completed = Assert.Single(entries, e => e.EventId.Id == 1104);
        Assert.Equal(id, completed.State["JobId"]);
        Assert.Equal("obs.job", completed.State["JobName"]);

        // Every worker log comes from a [LoggerMessage] method: an event id and a message template.
        var workerLogs = entries.Where(e => e.Category == typeof(JobWorker).FullName).ToArray();
        Assert.Contains(workerLogs, e => e.EventId.Id == 1000);
        Assert.Contains(workerLogs, e => e.EventId.Id == 1001);
        Assert.All(workerLogs.Where(e => !e.Message.StartsWith("handler running", StringComparison.Ordinal)), e =>
        {
            Assert.InRange(e.EventId.Id, 1000, 1999);
            Assert.True(e.State.ContainsKey("{OriginalFormat}"), $"log {e.EventId} has no message template");
        });
    }
}
