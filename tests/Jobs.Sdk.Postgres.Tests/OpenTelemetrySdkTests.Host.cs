using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Jobs.Sdk.Postgres.Tests;

/// <content>The host the tests run: README's setup, verbatim, and the in-memory exporters the tests read.</content>
public sealed partial class OpenTelemetrySdkTests
{
    /// <summary>
    /// A host as README shows it: jobs on PostgreSQL with workers, OpenTelemetry set up by README's block, then
    /// <paramref name="configure"/> (another of README's blocks, a configuration value an operator sets), plus what the
    /// test adds: the application's source, and in-memory exporters it reads after <c>ForceFlush</c>.
    /// </summary>
    private static IHost CreateHost(NpgsqlDataSource dataSource, string queueName, ICollection<Activity> spans, ICollection<MetricSnapshot> metrics,
        Func<ValueJob, JobContext, Task> handler, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = Schema;
                o.QueueName = queueName;
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes };
            })
            .AddJob<ValueJob>((job, context, _) => handler(job, context),
                o => o.RetryStrategy = JobRetryStrategy.ExponentialJitter(maxAttempts: 2, maxBackoff: TimeSpan.Zero))
            .AddWorkers(o => o.Concurrency = 2));

        #region readme-opentelemetry
        builder.Services.AddOpenTelemetry()
            .WithTracing(t => t.AddSource(JobsDiagnostics.ActivitySourceName))
            .WithMetrics(m => m.AddMeter(JobsDiagnostics.MeterName));
        #endregion

        configure?.Invoke(builder);
        builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddSource(Application.Name).AddInMemoryExporter(spans));
        builder.Services.ConfigureOpenTelemetryMeterProvider(m => m.AddInMemoryExporter(metrics));
        return builder.Build();
    }

    /// <summary>An exporter's target: the SDK adds from its export threads while the test reads.</summary>
    private sealed class LockedCollection<T> : System.Collections.ObjectModel.Collection<T>
    {
        private readonly Lock _lock = new();

        public T[] Snapshot()
        {
            lock (_lock)
            {
                return [.. Items];
            }
        }

        protected override void InsertItem(int index, T item)
        {
            lock (_lock)
            {
                base.InsertItem(index, item);
            }
        }

        protected override void ClearItems()
        {
            lock (_lock)
            {
                base.ClearItems();
            }
        }
    }
}
