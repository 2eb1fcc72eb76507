using System.Text.Json;
using Jobs.Sdk.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A scheduled job type with a <c>ConcurrencyLimit</c> whose previous fire still runs, on real PostgreSQL with real workers
/// and the real clock: the next fire is pushed (not skipped, unlike a unique type's) and waits in its key's line until the
/// running one ends; it never runs beside it. Two entries of the type fire two seconds apart, as consecutive fires of one
/// entry would (without waiting a minute).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScheduledKeyedJobTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_fire_of_a_concurrency_limited_type_waits_in_its_keys_line_while_the_previous_fire_runs()
    {
        var started = new Recorder<int>();
        var unkeyed = new Recorder<int>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b
            .AddJob<KeyedTick>(async (job, _, ct) =>
            {
                started.Add(job.N);
                if (job.N == 1)
                {
                    await release.Task.WaitAsync(ct);
                }
            })
            .AddJob<ValueJob>((job, _, _) => { unkeyed.Add(job.Value); return Task.CompletedTask; })
            .AddSchedule(_ => { }));
        var scheduler = q.Services.GetRequiredService<JobScheduler>();
        await q.StartAsync();
        // Once the host is up: the entries' first fires come a few seconds after the scheduler starts.
        var second = DateTimeOffset.UtcNow.AddSeconds(4).Second;
        q.Services.GetRequiredService<JobSchedule>()
            .Add(new KeyedTick(1), Schedule.EveryMinute(second), key: "first")
            .Add(new KeyedTick(2), Schedule.EveryMinute((second + 2) % 60), key: "second");
        await scheduler.StartAsync(CancellationToken.None);
        try
        {
            await started.WaitForCountAsync(1);
            Assert.Equal([1], started.Items);

            // The second fire is stored while the first runs; a job pushed after it, without a key, runs: the claims that
            // took it passed the keyed job by.
            await TestExtensions.EventuallyAsync(async () => started.Count > 1 || await q.DataSource.ScalarAsync(
                $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}' AND name = '{KeyedTick.JobName}' AND run_at <= now()") == 2,
                what: "the second fire's job is stored and due");
            await q.Queue.PushAsync(new ValueJob(7));
            await unkeyed.WaitForCountAsync(1);
            Assert.True(started.Items.SequenceEqual([1]),
                $"While the first fire's job of a ConcurrencyLimit = 1 type ran, the second fire's job started too: runs {string.Join(", ", started.Items)}");

            release.SetResult();
            await started.WaitForCountAsync(2);
            Assert.Equal([1, 2], started.Items.Take(2));
        }
        finally
        {
            release.TrySetResult();
            await scheduler.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>A job type limited to one at a time (its key: the job name).</summary>
    public sealed record KeyedTick(int N) : IJob<KeyedTick>
    {
        public static string JobName => "test.scheduled-keyed-tick";
        public static int? ConcurrencyLimit => 1;
        public static string GetConcurrencyKey(KeyedTick job) => JobName;
        public static void Serialize(Utf8JsonWriter writer, KeyedTick job) => IntMemberJson.Write(writer, "n", job.N);
        public static KeyedTick Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "n", nameof(N)));
    }
}
