using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Several hosts in one process (tests, modular monoliths): one schema shared, or one schema each.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MultiHostTests(PostgresFixture fixture)
{
    /// <summary>
    /// Two hosts on two new schemas (migrated at the same time) and a third sharing the first one's schema, every queue
    /// named "default": each job runs once, only on a host of its own schema, and all hosts stop cleanly.
    /// </summary>
    [Fact]
    public async Task Hosts_sharing_a_schema_share_its_jobs_and_hosts_on_other_schemas_never_see_them()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (first, second) = ("mh_a_" + suffix, "mh_b_" + suffix);
        var runs = new ConcurrentDictionary<JobId, ConcurrentBag<string>>();
        IHost Build(string schema, string name)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Services.AddJobs(jobs => jobs
                .UsePostgres(fixture.ConnectionString, o =>
                {
                    o.Schema = schema;
                    o.PollInterval = TimeSpan.FromMilliseconds(100);
                })
                .AddJob<ValueJob>((_, context, _) =>
                {
                    runs.GetOrAdd(context.Id, _ => []).Add(name);
                    return Task.CompletedTask;
                })
                .AddWorkers(o => o.Concurrency = 4));
            return builder.Build();
        }

        using var a1 = Build(first, "a1");
        using var a2 = Build(first, "a2");
        using var b = Build(second, "b");
        try
        {
            await Task.WhenAll(a1.StartAsync(), b.StartAsync(), a2.StartAsync()).WaitAsync(TimeSpan.FromSeconds(120));
            var onA = await a1.Services.GetRequiredService<JobQueue>().PushManyAsync(Enumerable.Range(0, 300).Select(i => new ValueJob(i)));
            var onB = await b.Services.GetRequiredService<JobQueue>().PushManyAsync(Enumerable.Range(0, 100).Select(i => new ValueJob(i)));
            await TestExtensions.EventuallyAsync(() => Task.FromResult(runs.Count >= 400), 120, "every job runs");
            await Task.WhenAll(a1.StopAsync(), a2.StopAsync(), b.StopAsync()).WaitAsync(TimeSpan.FromSeconds(120));

            Assert.Equal(400, runs.Count);
            Assert.All(onA, id => Assert.True(runs[id] is { Count: 1 } r && r.Single() is "a1" or "a2", $"job {id} ran on {string.Join(",", runs[id])}"));
            Assert.All(onB, id => Assert.Equal(["b"], runs[id]));
        }
        finally
        {
            await using var dataSource = fixture.CreateDataSource();
            await dataSource.ExecAsync($"DROP SCHEMA IF EXISTS {first} CASCADE; DROP SCHEMA IF EXISTS {second} CASCADE");
        }
    }
}
