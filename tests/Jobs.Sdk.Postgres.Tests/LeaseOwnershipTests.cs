using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Outcomes that the store rejects, lock order between renewals and outcome writes, and the plans of those statements
/// (issue 13, findings 4 and 6).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LeaseOwnershipTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Poison_error_texts_never_block_other_outcomes_and_are_stored_sanitized()
    {
        var done = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            switch (job.Value)
            {
                case -1:
                    throw new InvalidOperationException("nul\0byte");
                case -2:
                    throw new InvalidOperationException("lone\uD800surrogate");
                case -3:
                    throw new InvalidOperationException(new string('x', 7999) + "\uD83D\uDE00tail");
            }

            done.Add(job.Value);
            return Task.CompletedTask;
        }), driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes },
            worker: o => o.Concurrency = 8);
        var poison = await q.Queue.PushManyAsync([new ValueJob(-1), new ValueJob(-2), new ValueJob(-3)]);
        await q.Queue.PushManyAsync(Enumerable.Range(1, 50).Select(i => new ValueJob(i)));
        await q.StartAsync();
        await done.WaitForCountAsync(50);
        await TestExtensions.EventuallyAsync(async () =>
        {
            var counts = await q.Queue.GetCountsAsync();
            return counts.Completed == 50 && counts.Failed == 3 && counts.Processing == 0;
        }, what: "50 completed, 3 failed, none processing");

        var nul = (await q.Queue.GetJobAsync(poison[0]))!.LastError!;
        var lone = (await q.Queue.GetJobAsync(poison[1]))!.LastError!;
        var longError = (await q.Queue.GetJobAsync(poison[2]))!.LastError!;
        Assert.Contains("nul\uFFFDbyte", nul, StringComparison.Ordinal);
        Assert.Contains("lone\uFFFDsurrogate", lone, StringComparison.Ordinal);
        Assert.True(longError.Length <= 8000);
        Assert.False(char.IsHighSurrogate(longError[^1]), "cut inside a surrogate pair");

        // The stack traces repeat the poison (Exception.ToString starts with the message): stored just as safely.
        var stacks = new List<string>();
        foreach (var id in poison)
        {
            stacks.Add((await q.Queue.GetJobAsync(id))!.Errors[^1].StackTrace!);
        }

        Assert.Contains("nul\uFFFDbyte", stacks[0], StringComparison.Ordinal);
        Assert.Contains("lone\uFFFDsurrogate", stacks[1], StringComparison.Ordinal);
        Assert.True(stacks[2].Length <= 4000, "bounded by JobQueueOptions.MaxStackTraceLength");
        Assert.All(stacks, s => Assert.Contains(" at ", s, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(JobOutcomeKind.Release)]
    [InlineData(JobOutcomeKind.Completed)] // removed (retention keeps no completed job): the DELETE without a prior row lock
    public async Task Renewals_and_outcome_writes_on_the_same_rows_never_deadlock(JobOutcomeKind kind)
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => { });
        var d = q.Driver;
        const int Jobs = 200;
        await q.Queue.PushManyAsync(Enumerable.Range(0, Jobs).Select(i => new ValueJob(i)));
        for (var round = 0; round < 25; round++)
        {
            if (kind is JobOutcomeKind.Completed && round > 0)
            {
                await q.Queue.PushManyAsync(Enumerable.Range(0, Jobs).Select(i => new ValueJob(i)));
            }

            var claimed = await d.ClaimAsync(new JobClaimRequest("w", Jobs, TimeSpan.FromMinutes(1)), CancellationToken.None);
            Assert.Equal(Jobs, claimed.Count);
            var random = new Random(round);

            // Several renewals and outcome writes at once, each listing the rows in its own random order.
            var tasks = new List<Task>();
            for (var i = 0; i < 3; i++)
            {
                var leases = claimed.Select(c => new JobLease(c.Id, c.LeaseToken)).OrderBy(_ => random.Next()).ToList();
                tasks.Add(Task.Run(() => d.RenewLeasesAsync("w", leases, TimeSpan.FromMinutes(1), CancellationToken.None)));
            }

            var halves = claimed.OrderBy(_ => random.Next()).Chunk(Jobs / 2).ToList();
            foreach (var half in halves)
            {
                var outcomes = half.Select(c => new JobOutcome(c.Id, kind, c.Attempt, LeaseToken: c.LeaseToken)).ToList();
                tasks.Add(Task.Run(() => d.CompleteAsync("w", outcomes, CancellationToken.None)));
            }

            await Task.WhenAll(tasks); // a 40P01 (deadlock_detected) surfaces here as a PostgresException
            var counts = await q.Queue.GetCountsAsync();
            Assert.Equal(((long)(kind is JobOutcomeKind.Release ? Jobs : 0), 0L), (counts.Pending, counts.Processing));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Renewals_and_outcome_writes_find_rows_by_primary_key_whatever_the_statistics(bool analyzed)
    {
        var queue = "plan_" + Guid.NewGuid().ToString("N")[..8];
        await using var q = await TestQueue.CreateAsync(fixture, b => { }, queueName: queue);
        await using var ds = fixture.CreateDataSource();
        await ds.ExecAsync($$"""
            INSERT INTO jobs_test.jobs (id, queue_name, name, payload, state, worker_id, lease_token, lease_expires_at)
            SELECT gen_random_uuid(), '{{queue}}', 'n', '{}', 1, 'w', gen_random_uuid(), now() + interval '1 hour'
            FROM generate_series(1, 30000)
            """);
        if (analyzed)
        {
            await ds.ExecAsync("ANALYZE jobs_test.jobs");
        }

        var rows = new List<(Guid Id, Guid Token)>();
        await using (var pick = ds.CreateCommand($"SELECT id, lease_token FROM jobs_test.jobs WHERE queue_name = '{queue}' LIMIT 500"))
        await using (var reader = await pick.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetGuid(0), reader.GetGuid(1)));
            }
        }

        var ids = rows.Select(r => r.Id).ToArray();
        var tokens = rows.Select(r => r.Token).ToArray();
        var n = rows.Count;
        var renew = await ExplainAsync(ds, JobSql.RenewLeases,
            queue, Array(ids), "w", 60000.0, Array(tokens), Array(new double?[n]));
        var complete = await ExplainAsync(ds, JobSql.Complete,
            queue, "w", Array(ids), Array(Enumerable.Repeat(1, n).ToArray()), Array(Enumerable.Repeat((short)JobOutcomeKind.Completed, n).ToArray()),
            Array(new double[n]), Array(new int[n]), Array(new string?[n]), Array(new bool[n]), DBNull.Value, false, Array(tokens), Array(new string?[n]), Array(new DateTime?[n]));
        foreach (var (name, plan) in new[] { ("renew", renew), ("complete", complete) })
        {
            Assert.Contains("jobs_pkey", plan, StringComparison.Ordinal);
            Assert.DoesNotContain("Seq Scan on jobs", plan, StringComparison.Ordinal);
            Assert.True(plan.Contains("Index Scan", StringComparison.Ordinal), $"{name}: {plan}");
        }
    }

    private static object Array<T>(T[] values) => values;

    private static async Task<string> ExplainAsync(NpgsqlDataSource ds, string sql, params object[] parameters)
    {
        await using var command = ds.CreateCommand("EXPLAIN " + sql.Replace("{s}", "jobs_test", StringComparison.Ordinal));
        foreach (var p in parameters)
        {
            command.Parameters.Add(p is DBNull ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text } : new NpgsqlParameter { Value = p });
        }

        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }
}
