using System.Transactions;
using Jobs.Sdk.Testing;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <c>jobs.pushed</c> for pushes whose commit is the caller's: in an ambient <see cref="TransactionScope"/> the SDK learns
/// the outcome and counts the jobs at the commit (never after a rollback); in the caller's own <c>NpgsqlTransaction</c> it
/// cannot (no commit hook), so it counts at the push and tags the count as not yet committed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TransactionalPushMetricTests(PostgresFixture fixture)
{
    private static TransactionScope Scope() => new(TransactionScopeOption.Required, TransactionScopeAsyncFlowOption.Enabled);

    /// <summary>
    /// A scope that rolls back (one push and a unique batch, never completed) counts nothing; a scope that commits counts
    /// its jobs once, at its commit, untagged (they are stored); nothing is counted before the commit.
    /// </summary>
    [Fact]
    public async Task Pushes_in_a_TransactionScope_are_counted_at_its_commit_and_not_after_a_rollback()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddJob<UniqueValueJob>((_, _, _) => Task.CompletedTask));
        using var metrics = new MetricCollector(q.Driver.QueueName);

        JobId rolledBack;
        using (Scope())
        {
            rolledBack = await q.Queue.PushAsync(new ValueJob(1));
            await q.Queue.TryPushManyAsync([new UniqueValueJob(2), new UniqueValueJob(3)]);
        }

        Assert.Null(await q.Queue.GetJobAsync(rolledBack));
        var counted = metrics.Of(JobsDiagnostics.PushedInstrument);
        Assert.True(counted.Count == 0,
            $"jobs.pushed counted {counted.Sum(p => p.Value)} job(s) pushed in a TransactionScope that rolled back (none was ever stored): "
            + Describe(counted));

        JobId committed;
        using (var scope = Scope())
        {
            committed = await q.Queue.PushAsync(new ValueJob(4));
            await q.Queue.PushManyAsync([new ValueJob(5), new ValueJob(6)]);
            Assert.True(metrics.Of(JobsDiagnostics.PushedInstrument).Count == 0,
                "jobs.pushed counted pushes of an open TransactionScope before its commit: " + Describe(metrics.Of(JobsDiagnostics.PushedInstrument)));
            scope.Complete();
        }

        Assert.NotNull(await q.Queue.GetJobAsync(committed));
        await metrics.WaitAsync(m => m.Sum(JobsDiagnostics.PushedInstrument) >= 3);
        counted = metrics.Of(JobsDiagnostics.PushedInstrument);
        Assert.Equal(3, counted.Sum(p => p.Value));
        Assert.All(counted, p => Assert.Null(p.Tag(JobsInstrumentation.PushTransactionTag)));
        Assert.All(counted, p => Assert.Equal(ValueJob.JobName, p.Tag(JobsInstrumentation.JobNameTag)));
    }

    /// <summary>
    /// A push given the caller's <c>NpgsqlTransaction</c> is counted when the push returns, committed or rolled back later:
    /// the count carries <c>jobs.push.transaction = caller</c>, so a reader can tell it from stored pushes.
    /// </summary>
    [Fact]
    public async Task Pushes_in_the_callers_transaction_are_counted_tagged_as_not_yet_committed()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        using var metrics = new MetricCollector(q.Driver.QueueName);

        JobId committed, rolledBack;
        await using (var connection = await q.DataSource.OpenConnectionAsync())
        {
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                rolledBack = await q.Queue.PushAsync(new ValueJob(1), transaction);
                await transaction.RollbackAsync();
            }

            await using (var transaction = await connection.BeginTransactionAsync())
            {
                committed = (await q.Queue.PushManyAsync([new ValueJob(2), new ValueJob(3)], transaction))[0];
                await transaction.CommitAsync();
            }
        }

        Assert.Null(await q.Queue.GetJobAsync(rolledBack));
        Assert.NotNull(await q.Queue.GetJobAsync(committed));
        var counted = metrics.Of(JobsDiagnostics.PushedInstrument);
        Assert.Equal(3, counted.Sum(p => p.Value));
        var untagged = counted.Where(p => p.Tag(JobsInstrumentation.PushTransactionTag) != JobsInstrumentation.CallerTransaction).ToArray();
        Assert.True(untagged.Length == 0,
            $"jobs.pushed counted {untagged.Sum(p => p.Value)} job(s) pushed in the caller's NpgsqlTransaction (one of them rolled back, never stored) "
            + "as stored pushes, with nothing to tell them apart: " + Describe(untagged));
    }

    private static string Describe(IEnumerable<MetricPoint> points)
        => string.Join("; ", points.Select(p => $"{p.Value} {{{string.Join(", ", p.Tags.Select(t => $"{t.Key}={t.Value}"))}}}"));
}
