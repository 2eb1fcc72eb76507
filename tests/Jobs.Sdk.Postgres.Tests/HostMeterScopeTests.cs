using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Jobs.Sdk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Two Generic Hosts in one process (tests, an app that hosts two job systems on two schemas): each host's
/// <c>Jobs.Sdk</c> meter comes from its own <see cref="IMeterFactory"/>, so a listener of one host's meters sees that host's
/// jobs only, and the meter ends with its host.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HostMeterScopeTests(PostgresFixture fixture)
{
    private const string SchemaTag = "jobs.schema";

    /// <summary>
    /// One job pushed and run on host A, two on host B, one queue name, two schemas: a <see cref="MeterListener"/> of the
    /// meters of host A's <see cref="IMeterFactory"/> sees <c>jobs.pushed</c> 1, <c>jobs.completed</c> 1 and A's
    /// <c>jobs.state.count</c>, nothing of host B; host A's disposal completes its instruments.
    /// </summary>
    [Fact]
    public async Task A_listener_of_one_hosts_meters_sees_that_hosts_jobs_only()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (schemaA, schemaB) = ("hm_a_" + suffix, "hm_b_" + suffix);
        var queueName = "hostmeter_" + suffix;
        var ranA = new Recorder<int>();
        var ranB = new Recorder<int>();
        using var hostA = Build(schemaA, queueName, ranA);
        using var hostB = Build(schemaB, queueName, ranB);
        var factoryA = hostA.Services.GetRequiredService<IMeterFactory>();

        var seen = new ConcurrentQueue<MetricPoint>();
        var completedInstruments = new ConcurrentQueue<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == JobsDiagnostics.MeterName && ReferenceEquals(instrument.Meter.Scope, factoryA))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.MeasurementsCompleted = (instrument, _) => completedInstruments.Enqueue(instrument.Name);
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var map = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                map[tag.Key] = tag.Value;
            }

            seen.Enqueue(new MetricPoint(instrument.Name, value, map));
        });
        listener.Start();
        using var all = new MetricCollector(queueName); // every Jobs.Sdk meter of the process: tells when host B counted

        await hostA.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await hostB.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await hostA.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(1));
        await hostB.Services.GetRequiredService<JobQueue>().PushManyAsync([new ValueJob(2), new ValueJob(3)]);
        await ranA.WaitForCountAsync(1, 60);
        await ranB.WaitForCountAsync(2, 60);
        await all.WaitAsync(m => m.Sum(JobsDiagnostics.CompletedInstrument) >= 3);
        var foreign = seen.Where(p => p.Tag(SchemaTag) != schemaA).ToArray();
        Assert.True(foreign.Length == 0,
            $"A MeterListener of host A's meters (Meter.Scope = host A's IMeterFactory) saw {foreign.Length} measurement(s) of another host: "
            + Describe(foreign));
        var pushed = seen.Where(p => p.Instrument == JobsDiagnostics.PushedInstrument).Sum(p => p.Value);
        var completed = seen.Where(p => p.Instrument == JobsDiagnostics.CompletedInstrument).Sum(p => p.Value);
        Assert.True(pushed == 1 && completed == 1,
            $"A MeterListener of host A's meters (Meter.Scope = host A's IMeterFactory) saw jobs.pushed {pushed} and jobs.completed {completed}; "
            + $"expected 1 and 1 (host A pushed and ran one job, host B two; all of the process's Jobs.Sdk meters saw jobs.pushed "
            + $"{all.Sum(JobsDiagnostics.PushedInstrument)}): the SDK did not make its meter from the host's IMeterFactory");

        // The gauge: host A's queue only (host B's store reports the same queue name under its own schema).
        await TestExtensions.EventuallyAsync(() =>
        {
            listener.RecordObservableInstruments();
            return Task.FromResult(seen.Any(p => p.Instrument == JobsDiagnostics.StateCountInstrument));
        }, 60, "host A's jobs.state.count is reported");
        foreign = seen.Where(p => p.Tag(SchemaTag) != schemaA).ToArray();
        Assert.True(foreign.Length == 0, "host A's jobs.state.count reported another host's store: " + Describe(foreign));

        await hostA.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        hostA.Dispose();
        Assert.Contains(JobsDiagnostics.PushedInstrument, completedInstruments); // the host's meter ended with it
        await hostB.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    private IHost Build(string schema, string queueName, Recorder<int> ran)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(fixture.ConnectionString, o =>
            {
                o.Schema = schema;
                o.QueueName = queueName;
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes };
            })
            .AddJob<ValueJob>((job, _, _) =>
            {
                ran.Add(job.Value);
                return Task.CompletedTask;
            })
            .AddWorkers(o => o.Concurrency = 2));
        return builder.Build();
    }

    private static string Describe(IEnumerable<MetricPoint> points)
        => string.Join("; ", points.Select(p => $"{p.Instrument} {p.Value} {{{string.Join(", ", p.Tags.Select(t => $"{t.Key}={t.Value}"))}}}"));
}
