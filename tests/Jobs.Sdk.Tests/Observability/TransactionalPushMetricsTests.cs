using System.Transactions;

namespace Jobs.Sdk.Tests.Observability;

/// <summary>
/// The in-memory driver joins an ambient <see cref="TransactionScope"/> as PostgreSQL does, so <c>jobs.pushed</c> counts
/// its pushes at the scope's commit, and never those of a scope that rolled back.
/// </summary>
[Collection(ObservabilityCollection.Name)]
public sealed class TransactionalPushMetricsTests
{
    private static TransactionScope Scope() => new(TransactionScopeOption.Required, TransactionScopeAsyncFlowOption.Enabled);

    [Fact]
    public async Task Pushes_in_a_scope_count_at_its_commit_and_not_after_a_rollback()
    {
        var queueName = Obs.NewQueueName("metrics-scope");
        using var metrics = new MetricCollector(queueName);
        await using var host = TestHost.Create(j => j.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), driver: d => d.QueueName = queueName);

        using (Scope())
        {
            await host.Queue.PushAsync(new ValueJob(1));
            await host.Queue.PushManyAsync([new ValueJob(2), new ValueJob(3)]);
        }

        Assert.True(metrics.Of(JobsDiagnostics.PushedInstrument).Count == 0,
            $"jobs.pushed counted {metrics.Sum(JobsDiagnostics.PushedInstrument)} job(s) pushed in a TransactionScope that rolled back (in memory)");

        using (var scope = Scope())
        {
            await host.Queue.PushManyAsync([new ValueJob(4), new ValueJob(5)]);
            Assert.Empty(metrics.Of(JobsDiagnostics.PushedInstrument)); // not before the commit
            scope.Complete();
        }

        await metrics.WaitAsync(m => m.Sum(JobsDiagnostics.PushedInstrument) >= 2);
        Assert.Equal(2, metrics.Sum(JobsDiagnostics.PushedInstrument));
        Assert.Equal(2, (await host.Queue.GetCountsAsync()).Pending);
    }
}
